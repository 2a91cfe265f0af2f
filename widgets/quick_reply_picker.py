"""The quick-replies picker: type any words, see matching replies, preview, insert.

A modal screen (like Textual's own command palette) so that it can float over the
composer at any terminal size. Searching and expanding run in thread workers against
the store (``search_quick_replies``: every word, any order, partial;
``expand_quick_reply``: variables filled for this task and operator). The preview is
the text that would be inserted; a reply naming an unknown variable shows the error
in the preview and cannot be inserted, so ``{{typo}}`` never reaches a client.

Enter dismisses with the expanded text; Esc dismisses with None and the composer
keeps its text (the ``*`` included).
"""

from __future__ import annotations

from typing import Any, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from storage.errors import SwitchboardError, TemplateError
from storage.i18n import _
from storage.rows import QuickReplyRow
from widgets.safe_text import clean


class QuickReplySource(Protocol):
    def search_quick_replies(self, query: str, language: str | None = None,
                             limit: int = 50) -> list[QuickReplyRow]: ...

    def expand_quick_reply(self, reply_id: int, task_id: int | None,
                           operator_id: int | None) -> str: ...


def script_language(query: str) -> str | None:
    """The language a query is typed in, as far as its script tells: Cyrillic → ``ru``,
    Latin → ``en``; None when it has no letters. Used to put replies in the operator's
    typing language first ("typing in a language brings up replies in it")."""
    for char in query:
        if char.isalpha():
            return "ru" if "\u0400" <= char <= "\u04ff" else "en"
    return None


def by_language(replies: list[QuickReplyRow], query: str) -> list[QuickReplyRow]:
    """Replies in the query's language first; the store's order otherwise kept."""
    language = script_language(query)
    if language is None:
        return replies
    return sorted(replies, key=lambda r: r.language != language)


class QuickReplyPicker(ModalScreen[str | None]):
    """Pick a quick reply; dismisses with its expanded text, or None when cancelled."""

    DEFAULT_CSS = """
    QuickReplyPicker {
        align: center bottom;
        background: $background 40%;
    }
    QuickReplyPicker > Vertical {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $accent;
        border-title-color: $accent;
        background: $surface;
        margin-bottom: 1;
    }
    QuickReplyPicker #qr-query { border: none; height: 1; padding: 0 1; }
    QuickReplyPicker #qr-list { height: auto; max-height: 8; border: none; }
    QuickReplyPicker #qr-preview {
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-top: solid $panel;
        color: $text;
    }
    QuickReplyPicker #qr-preview.-error { color: $error; }
    """

    KEYMAP_GROUP = "quick_replies"  # its keys in the reference (console.keymap)
    BINDINGS = [
        Binding("escape", "cancel", _("Cancel"), id="quick_replies.cancel"),
        Binding("down", "move(1)", _("Next"), show=False, id="quick_replies.next"),
        Binding("up", "move(-1)", _("Previous"), show=False, id="quick_replies.previous"),
    ]

    def __init__(self, source: QuickReplySource, task_id: int | None, operator_id: int | None,
                 language: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.task_id = task_id
        self.operator_id = operator_id
        self.language = language
        self.replies: list[QuickReplyRow] = []
        self.expanded: dict[int, str] = {}
        self.errors: dict[int, str] = {}
        # Enter typed before the results for the typed words (or their preview) came:
        # chosen as soon as they are there, so a fast typist's Enter is not lost.
        self.choose_when_ready = False
        self._results_query: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = _("Quick replies — type words, Enter inserts, Esc cancels")
            yield Input(placeholder=_("Words of the question or answer…"), id="qr-query")
            yield OptionList(id="qr-list")
            yield Static("", id="qr-preview")

    def on_mount(self) -> None:
        self.query_one("#qr-query", Input).focus()
        self.search("")

    # ---- searching ---------------------------------------------------------------------
    @on(Input.Changed, "#qr-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(thread=True, exclusive=True, group="qr-search", exit_on_error=False)
    def search(self, query: str) -> None:
        try:
            found = self.source.search_quick_replies(query, self.language)
        except SwitchboardError as err:
            self.app.call_from_thread(self._show_error, str(err))
            return
        self.app.call_from_thread(self._show_results, query, by_language(found, query))

    def _show_results(self, query: str, found: list[QuickReplyRow]) -> None:
        if query != self.query_one("#qr-query", Input).value:
            return  # a newer search is on its way
        self.replies = found
        self._results_query = query
        options = self.query_one("#qr-list", OptionList)
        options.clear_options()
        options.add_options([Option(self._label(r), id=str(r.id)) for r in found])
        if found:
            options.highlighted = 0
        else:
            self._set_preview(_("No quick reply matches these words."), error=False)
            self.choose_when_ready = False

    @staticmethod
    def _label(reply: QuickReplyRow) -> Text:
        label = Text(clean(reply.title), style="bold")
        if reply.language:
            label.append(f"  [{clean(reply.language)}]", style="dim")
        return label

    def action_move(self, delta: int) -> None:
        options = self.query_one("#qr-list", OptionList)
        if not self.replies:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(len(self.replies) - 1, current + delta))

    # ---- preview -----------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#qr-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        reply_id = int(event.option.id or 0)
        if reply_id in self.expanded:
            self._set_preview(self.expanded[reply_id], error=False)
            self._choose_if_waiting()
        elif reply_id in self.errors:
            self._set_preview(self.errors[reply_id], error=True)
            self._choose_if_waiting()
        else:
            self._set_preview(_("Filling in the variables…"), error=False)
            self.expand(reply_id)

    @work(thread=True, exclusive=True, group="qr-expand", exit_on_error=False)
    def expand(self, reply_id: int) -> None:
        try:
            text = self.source.expand_quick_reply(reply_id, self.task_id, self.operator_id)
        except TemplateError as err:
            self.app.call_from_thread(self._expanded, reply_id, None, str(err))
            return
        except SwitchboardError as err:
            self.app.call_from_thread(self._expanded, reply_id, None, str(err))
            return
        self.app.call_from_thread(self._expanded, reply_id, text, None)

    def _expanded(self, reply_id: int, text: str | None, error: str | None) -> None:
        if text is not None:
            self.expanded[reply_id] = text
        if error is not None:
            self.errors[reply_id] = error
        if self._highlighted_id() == reply_id:
            if text is not None:
                self._set_preview(text, error=False)
            else:
                self._set_preview(error or "", error=True)
            self._choose_if_waiting()

    def _choose_if_waiting(self) -> None:
        if self.choose_when_ready and self._results_query == self.query_one("#qr-query",
                                                                             Input).value:
            self._choose_now()

    def _set_preview(self, text: str, *, error: bool) -> None:
        preview = self.query_one("#qr-preview", Static)
        preview.update(Text(clean(text)))
        preview.set_class(error, "-error")

    def _show_error(self, message: str) -> None:
        self._set_preview(message, error=True)

    def _highlighted_id(self) -> int | None:
        options = self.query_one("#qr-list", OptionList)
        if options.highlighted is None or not self.replies:
            return None
        return int(options.get_option_at_index(options.highlighted).id or 0)

    # ---- choosing ----------------------------------------------------------------------
    @on(Input.Submitted, "#qr-query")
    @on(OptionList.OptionSelected, "#qr-list")
    def _choose(self, event: Any) -> None:
        event.stop()
        if self._results_query != self.query_one("#qr-query", Input).value or (
                self._highlighted_id() is not None
                and self._highlighted_id() not in self.expanded
                and self._highlighted_id() not in self.errors):
            self.choose_when_ready = True  # the results or the preview are on their way
            return
        self._choose_now()

    def _choose_now(self) -> None:
        self.choose_when_ready = False
        reply_id = self._highlighted_id()
        if reply_id is None:
            self.app.bell()
            return
        if reply_id in self.errors:
            self.notify(self.errors[reply_id], severity="error")
            return
        if reply_id not in self.expanded:
            self.notify(_("The preview is not ready yet."), severity="warning")
            return
        self.dismiss(self.expanded[reply_id])

    def action_cancel(self) -> None:
        self.dismiss(None)
