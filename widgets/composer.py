"""The composer: a multi-line text area that sends replies or private notes.

Keys (remappable by binding id): ``composer.send`` (ctrl+s) sends, Enter inserts a
newline — an operator writing several lines must never send half a message by
accident; ``composer.toggle_note`` (ctrl+n) switches between a reply to the client
and a private note. The mode is always visible in the border title and colour.

Typing ``*`` at the start of a line or after whitespace asks the screen to open the
quick-replies picker (:class:`Composer.QuickReplyRequested`); the ``*`` stays in the
text so that cancelling the picker leaves the text exactly as typed.

The composer never talks to the store: it posts :class:`Composer.Submitted` and the
screen clears it only once the store accepted the text, so a failed send loses nothing.

The composer is *bound* to one task (:meth:`Composer.bind`): its border title names
where the text goes ("Reply to Ольга Кузнецова · Telegram" / "Private note — not sent
to the client"), and
``Submitted`` carries that task's id, never whatever task the screen shows by then. A
refusal (over the channel's limit, outside its window) is shown in the border
subtitle with the reason until the text changes; the text stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea

from storage.i18n import _
from storage.inputs import AttachmentIn
from widgets.fit import fit_words
from widgets.safe_text import one_line
from widgets.typeahead import held, hold_keys, release_keys

Location = tuple[int, int]
QUOTE_EXCERPT = 40  # cells of the quoted message shown under the composer


@dataclass(frozen=True)
class Extras:
    """What goes with the text: the quoted client message, a file, a scheduled time, meta."""

    quote_message_id: int | None = None
    attachments: tuple[AttachmentIn, ...] = ()
    send_at: datetime | None = None
    meta: dict[str, str] | None = None


class ComposerMessage(Message):
    """What every composer message carries: the composer it came from (``control``)."""

    def __init__(self, composer: Composer) -> None:
        super().__init__()
        self.composer = composer

    @property
    def control(self) -> Composer:
        return self.composer


class Composer(TextArea):
    """Where the operator writes. Posts ``Submitted``; shows reply/note mode and read-only reasons."""

    DEFAULT_CSS = """
    Composer {
        height: 6;
        border: round $primary 60%;
        border-title-color: $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    Composer:focus { border: round $primary; }
    Composer.-note, Composer.-note:focus {
        border: heavy $warning;
        border-title-color: $warning;
        background: $warning 10%;
    }
    Composer.-refused { border-subtitle-color: $error; border-subtitle-style: bold; }
    Composer.-blocked, Composer.-blocked:focus {
        border: round $secondary;
        border-title-color: $text-muted;
    }
    """

    KEYMAP_GROUP = "composer"  # its keys in the reference (console.keymap)
    BINDINGS = [
        Binding("ctrl+s", "send", _("Send"), id="composer.send",
                tooltip=_("Send the text to the client, or store it as a private note.")),
        Binding("ctrl+n", "toggle_note", _("Reply/Note"), id="composer.toggle_note",
                tooltip=_("Switch between a reply to the client and a private note.")),
        Binding("ctrl+g", "request('editor')", _("Editor"), id="composer.editor", show=False,
                tooltip=_("Edit the text in $VISUAL or $EDITOR.")),
        Binding("ctrl+l", "request('schedule')", _("Send at"), id="composer.schedule",
                show=False, tooltip=_("Send the reply later, at a time you choose.")),
        Binding("ctrl+b", "request('attach')", _("File"), id="composer.attach", show=False,
                tooltip=_("Attach a file to the reply (a path with Tab completion).")),
        Binding("f9", "request('templates')", _("Templates"), id="composer.templates",
                show=False, tooltip=_("Send an approved template message (WhatsApp).")),
        Binding("f8", "clear_extras", _("Unquote"), id="composer.clear_quote", show=False,
                tooltip=_("Drop the quoted message and the attached file.")),
    ]

    private: reactive[bool] = reactive(False)
    """True: what is sent is a private note that never reaches the client."""

    blocked_reason: reactive[str] = reactive("")
    """Why the operator cannot write here now (empty: they can)."""

    class Submitted(ComposerMessage):
        """The operator asked to send ``text`` to task ``task_id`` (a private note when
        ``private``): the task the composer was bound to when the text was written."""

        def __init__(self, composer: Composer, text: str, private: bool,
                     task_id: int | None = None, extras: Extras | None = None) -> None:
            super().__init__(composer)
            self.text = text
            self.private = private
            self.task_id = task_id
            self.extras = extras or Extras()

    class QuickReplyRequested(ComposerMessage):
        """A ``*`` was typed at ``location`` (row, column of the star) where a quick reply may go."""

        def __init__(self, composer: Composer, location: Location) -> None:
            super().__init__(composer)
            self.location = location

    class Requested(ComposerMessage):
        """The operator asked for ``what``: ``editor``, ``schedule``, ``attach`` or ``templates``."""

        def __init__(self, composer: Composer, what: str) -> None:
            super().__init__(composer)
            self.what = what

    class Bound(ComposerMessage):
        """The composer now writes for ``task_id`` (the screen may set a channel notice)."""

        def __init__(self, composer: Composer, task_id: int | None) -> None:
            super().__init__(composer)
            self.task_id = task_id

    class Typing(ComposerMessage):
        """A keystroke changed the text of the bound task (for presence)."""

        def __init__(self, composer: Composer, task_id: int) -> None:
            super().__init__(composer)
            self.task_id = task_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, soft_wrap=True, tab_behavior="focus",
                         show_line_numbers=False)
        self.send_key = "ctrl+s"
        self.toggle_key = "ctrl+n"
        self.task_id: int | None = None
        self.target = ""  # "Ольга Кузнецова · Telegram": who a reply goes to
        self.refusal = ""  # why the last send was refused (shown until the text changes)
        self.notice = ""  # what the channel allows now (a closed window: templates only)
        self.quote: tuple[int, str] | None = None  # (client message id, excerpt)
        self.attachment: AttachmentIn | None = None
        self.typing_since: datetime | None = None  # when this draft was first touched
        self._loading = False
        self._update_title()

    # ---- the task the text is for ----------------------------------------------------------
    def bind(self, task_id: int | None, target: str, text: str = "",
             private: bool = False) -> None:
        """Write for ``task_id`` from now on, starting from ``text`` (its draft) in its
        mode: a note mode never carries over from the previous task."""
        self.task_id = task_id
        self.target = target
        self.refusal = ""
        self.notice = ""
        self.quote = None
        self.attachment = None
        self.typing_since = None
        self.set_text(text)
        self.private = private
        self._update_title()
        self.post_message(self.Bound(self, task_id))

    def set_text(self, text: str) -> None:
        """Replace the text (a draft, the editor's result) without it counting as typing."""
        self._loading = True
        self.load_text(text)
        self.move_cursor(self.document.end)

    def sent(self) -> None:
        """The store accepted what was sent: start afresh for the same task."""
        self.quote = None
        self.attachment = None
        self.typing_since = None
        self.clear()
        self._update_title()

    def set_quote(self, message_id: int, text: str) -> None:
        """The reply will quote the client's message ``message_id`` (``text``: its words)."""
        self.quote = (message_id, one_line(text, QUOTE_EXCERPT))
        self._update_title()

    def set_attachment(self, attachment: AttachmentIn | None) -> None:
        self.attachment = attachment
        self._update_title()

    def set_notice(self, notice: str) -> None:
        """What the channel allows now, shown before the operator types (empty: nothing)."""
        self.notice = notice
        self._update_title()

    def extras(self, send_at: datetime | None = None,
               meta: dict[str, str] | None = None) -> Extras:
        return Extras(self.quote[0] if self.quote else None,
                      (self.attachment,) if self.attachment else (), send_at, meta)

    def refuse(self, reason: str) -> None:
        """The store refused the text: say why, keep the text."""
        self.refusal = reason
        self._update_title()

    # ---- mode and read-only ----------------------------------------------------------------
    def _update_title(self) -> None:
        if self.blocked_reason:
            self.border_title = self.blocked_reason
            self.border_subtitle = ""
        elif self.private:
            self.border_title = _("Private note — not sent to the client")
            self.border_subtitle = self.refusal or self._extras_line() or self._hint()
        else:
            # The client's name is data, never markup: a plain Content.
            self.border_title = Content(_("Reply to {target}").format(target=self.target)
                                        if self.target else _("Reply to the client"))
            self.border_subtitle = (self.refusal or self._extras_line() or self.notice
                                    or self._hint())
        self._fit_titles()
        self.set_class(bool(self.refusal) and not self.blocked_reason, "-refused")
        self.set_class(self.private and not self.blocked_reason, "-note")
        self.set_class(bool(self.blocked_reason), "-blocked")

    def _fit_titles(self) -> None:
        """Whole words and "…" in the border, never a word cut by the edge (80×24)."""
        room = self.outer_size.width - 6  # corners, rules and the blanks around the text
        if room <= 0:
            return
        for name in ("border_title", "border_subtitle"):
            value = getattr(self, name)
            if value:
                text = value.plain if isinstance(value, Content) else str(value)
                fitted = fit_words(text, room)
                if fitted != text:  # plain Content: client names are never markup
                    setattr(self, name, Content(fitted))

    def on_resize(self) -> None:
        self._update_title()

    def _extras_line(self) -> Content | str:
        """"Quoting: …" and the attached file's name: plain Content (client text)."""
        parts = []
        if self.quote:
            parts.append(_("Quoting: {excerpt}").format(excerpt=self.quote[1]))
        if self.attachment:
            parts.append(_("File: {name}").format(name=one_line(self.attachment.name, 30)))
        return Content(" · ".join(parts)) if parts else ""

    def _hint(self) -> str:
        return _("{send} send · {toggle} note · * quick").format(
            send=self.send_key, toggle=self.toggle_key)

    def set_key_hints(self, send: str, toggle: str) -> None:
        """Show the keys the keymap really uses (the screen knows the config)."""
        self.send_key, self.toggle_key = send, toggle
        self._update_title()

    def on_mount(self) -> None:
        self._update_title()

    def watch_private(self) -> None:
        self._update_title()

    def watch_blocked_reason(self, reason: str) -> None:
        self.read_only = bool(reason)
        self._update_title()

    # ---- actions ---------------------------------------------------------------------------
    def action_send(self) -> None:
        if self.blocked_reason:
            self.notify(self.blocked_reason, severity="warning")
            return
        if not self.text.strip() and self.attachment is None:
            self.notify(_("The message is empty."), severity="warning")
            return
        self.post_message(self.Submitted(self, self.text, self.private, self.task_id,
                                         self.extras()))

    def submit_at(self, send_at: datetime) -> None:
        """Send the reply at ``send_at`` (a scheduled send; never for a note)."""
        if self.blocked_reason or not self.text.strip():
            self.notify(self.blocked_reason or _("The message is empty."), severity="warning")
            return
        self.post_message(self.Submitted(self, self.text, False, self.task_id,
                                         self.extras(send_at=send_at)))

    def submit_template(self, name: str) -> None:
        """Send the approved template ``name`` (the text names it for the thread)."""
        self.post_message(self.Submitted(self, _("Template: {name}").format(name=name), False,
                                         self.task_id, self.extras(meta={"template": name})))

    def action_toggle_note(self) -> None:
        self.private = not self.private

    def action_request(self, what: str) -> None:
        self.post_message(self.Requested(self, what))

    def action_clear_extras(self) -> None:
        self.quote = None
        self.attachment = None
        self._update_title()

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.refusal:
            self.refusal = ""
            self._update_title()
        if self._loading:
            self._loading = False
            return
        if self.task_id is not None and self.text:
            if self.typing_since is None:
                self.typing_since = datetime.now(UTC)
            self.post_message(self.Typing(self, self.task_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.blocked_reason and action in ("send", "toggle_note", "request"):
            return False  # not offered: the reason is in the border title
        return super().check_action(action, parameters)

    # ---- quick replies ---------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        """Insert ``*`` ourselves when it may start a quick reply, then ask for the picker.

        Keys already queued here after such a ``*`` are kept for the picker (see
        :mod:`widgets.typeahead`)."""
        if held(self, event):
            return
        if event.character != "*" or self.read_only:
            return
        start, end = self.selection
        begin = min(start, end)
        row, column = begin
        line = self.document.get_line(row)
        if column > 0 and not line[column - 1].isspace():
            release_keys(self)  # held for a picker that does not come
            return  # a star inside a word is just a star
        event.stop()
        event.prevent_default()
        self.replace("*", start, end)
        hold_keys(self)
        self.post_message(self.QuickReplyRequested(self, begin))

    def moves_focus(self, key: events.Key, binding_id: str | None) -> bool:
        """A ``*`` may open the quick-reply picker: keys typed after it wait until it is
        known (released at once when it is just a star)."""
        return key.character == "*" and not self.read_only

    def insert_quick_reply(self, location: Location, text: str) -> None:
        """Replace the ``*`` at ``location`` with the expanded reply (if it is still there)."""
        row, column = location
        try:
            line = self.document.get_line(row)
        except IndexError:
            line = ""
        if column < len(line) and line[column] == "*":
            self.replace(text, (row, column), (row, column + 1))
        else:
            self.insert(text)
        self.focus()
