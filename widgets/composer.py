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
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea

from storage.i18n import _

Location = tuple[int, int]


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
    Composer.-blocked, Composer.-blocked:focus {
        border: round $secondary;
        border-title-color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "send", _("Send"), id="composer.send",
                tooltip=_("Send the text to the client, or store it as a private note.")),
        Binding("ctrl+n", "toggle_note", _("Reply/Note"), id="composer.toggle_note",
                tooltip=_("Switch between a reply to the client and a private note.")),
    ]

    private: reactive[bool] = reactive(False)
    """True: what is sent is a private note that never reaches the client."""

    blocked_reason: reactive[str] = reactive("")
    """Why the operator cannot write here now (empty: they can)."""

    class Submitted(Message):
        """The operator asked to send ``text`` (a private note when ``private``)."""

        def __init__(self, composer: Composer, text: str, private: bool) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.private = private

        @property
        def control(self) -> Composer:
            return self.composer

    class QuickReplyRequested(Message):
        """A ``*`` was typed at ``location`` (row, column of the star) where a quick reply may go."""

        def __init__(self, composer: Composer, location: Location) -> None:
            super().__init__()
            self.composer = composer
            self.location = location

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, soft_wrap=True, tab_behavior="focus",
                         show_line_numbers=False)
        self.send_key = "ctrl+s"
        self.toggle_key = "ctrl+n"
        self._update_title()

    # ---- mode and read-only ----------------------------------------------------------------
    def _update_title(self) -> None:
        if self.blocked_reason:
            self.border_title = self.blocked_reason
            self.border_subtitle = ""
        elif self.private:
            self.border_title = _("Private note — not sent to the client")
            self.border_subtitle = self._hint()
        else:
            self.border_title = _("Reply to the client")
            self.border_subtitle = self._hint()
        self.set_class(self.private and not self.blocked_reason, "-note")
        self.set_class(bool(self.blocked_reason), "-blocked")

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
        if not self.text.strip():
            self.notify(_("The message is empty."), severity="warning")
            return
        self.post_message(self.Submitted(self, self.text, self.private))

    def action_toggle_note(self) -> None:
        self.private = not self.private

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "toggle_note") and self.blocked_reason:
            return None  # shown greyed: the reason is in the border title
        return super().check_action(action, parameters)

    # ---- quick replies ---------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        """Insert ``*`` ourselves when it may start a quick reply, then ask for the picker."""
        if event.character != "*" or self.read_only:
            return
        start, end = self.selection
        begin = min(start, end)
        row, column = begin
        line = self.document.get_line(row)
        if column > 0 and not line[column - 1].isspace():
            return  # a star inside a word is just a star
        event.stop()
        event.prevent_default()
        self.replace("*", start, end)
        self.post_message(self.QuickReplyRequested(self, begin))

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
