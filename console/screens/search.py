"""The search screen: type, see results as you type, Enter opens the hit, Esc goes back.

Why it is built this way:

* no keypress waits for SQL: each change of the query (re)starts a short debounce
  timer; when it fires, an *exclusive* thread worker runs the search, so a newer
  query cancels the older one, and a generation number drops any result that
  arrives after the query changed again;
* a malformed query is explained under the input (column and reason) while the
  previous results stay on screen — nothing typed is lost;
* the screen is modal and only dismisses: Esc gives None, so the app is exactly where
  it was (focus returns to the widget that had it); Enter gives a
  :class:`storage.search.SearchHit` and the app opens that task at that message.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from storage.errors import SwitchboardError
from storage.i18n import _, ngettext
from storage.rows import OperatorRow
from storage.search import QueryError, Searcher, SearchHit, SearchResults
from widgets.search_results import SearchResultsList

Order = Literal["relevance", "newest"]
DEBOUNCE_SECONDS = 0.15


class SearchScreen(ModalScreen[SearchHit | None]):
    """Search every conversation, contact and task the operator may see."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Close search"), id="search.close"),
        Binding("ctrl+o", "toggle_order", _("Relevance / newest first"), id="search.order"),
        Binding("down", "results('cursor_down')", _("Next result"), id="search.next",
                show=False),
        Binding("up", "results('cursor_up')", _("Previous result"), id="search.previous",
                show=False),
        Binding("pagedown", "results('page_down')", _("Page down"), id="search.page_down",
                show=False),
        Binding("pageup", "results('page_up')", _("Page up"), id="search.page_up", show=False),
    ]

    DEFAULT_CSS = """
    SearchScreen {
        align: center middle;
        background: $background 50%;
    }
    SearchScreen > #search-box {
        width: 96%;
        max-width: 120;
        height: 92%;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    SearchScreen #search-status { height: 1; color: $text-muted; }
    SearchScreen #search-status.-error { color: $error; }
    SearchScreen SearchResultsList { height: 1fr; }
    """

    class _Done(Message):
        def __init__(self, token: int, results: SearchResults) -> None:
            super().__init__()
            self.token = token
            self.results = results

    class _Failed(Message):
        def __init__(self, token: int, error: str, position: int | None) -> None:
            super().__init__()
            self.token = token
            self.error = error
            self.position = position

    def __init__(self, store: Any, operator: OperatorRow | None, restrict_to_own: bool = False,
                 query: str = "", order: Order = "relevance") -> None:
        super().__init__()
        self.store = store
        self.operator = operator
        self.restrict_to_own = restrict_to_own
        self.order: Order = order
        self._initial = query
        self._token = 0
        self._timer: Timer | None = None
        self.searching = False

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box") as box:
            box.border_title = _("Search")
            box.border_subtitle = _("Enter opens · ↑↓ move · ctrl+o order · Esc back")
            yield Input(value=self._initial, id="search-input",
                        placeholder=_("words, \"a phrase\", -not, from:client, @name, #123…"))
            yield Static(self._hint(), id="search-status")
            yield SearchResultsList(id="search-results")

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).focus()
        if self._initial:
            self._start()

    # ---- typing → search -----------------------------------------------------------------
    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        self._token += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._start)

    def _start(self) -> None:
        self._timer = None
        text = self.query_one("#search-input", Input).value
        self._token += 1
        if not text.strip():
            self.searching = False
            self.workers.cancel_group(self, "search")
            self._status(self._hint())
            self.query_one(SearchResultsList).show(None)
            return
        self.searching = True
        self._search(self._token, text, self.order)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, token: int, text: str, order: Order) -> None:
        worker = get_current_worker()
        operator_id = self.operator.id if self.operator is not None else None
        try:
            results = Searcher(self.store).search(
                text, operator_id=operator_id, restrict_to_own=self.restrict_to_own,
                order=order, limit=200)
        except QueryError as err:
            if not worker.is_cancelled:
                self.post_message(self._Failed(token, str(err), err.position))
            return
        except SwitchboardError as err:
            if not worker.is_cancelled:
                self.post_message(self._Failed(token, str(err), None))
            return
        if not worker.is_cancelled:
            self.post_message(self._Done(token, results))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "search" and event.state == WorkerState.ERROR:
            self.searching = False
            self._status(_("Search failed: {error}").format(error=event.worker.error), True)

    def on_search_screen__done(self, message: _Done) -> None:
        if message.token != self._token:
            return  # the query changed meanwhile: a newer search is coming
        self.searching = False
        self.query_one(SearchResultsList).show(message.results)
        self._status(self._summary(message.results))

    def on_search_screen__failed(self, message: _Failed) -> None:
        if message.token != self._token:
            return
        self.searching = False
        if message.position is None:
            self._status(message.error, True)
        else:
            self._status(_("Column {column}: {error}").format(
                column=message.position + 1, error=message.error), True)

    # ---- status line ---------------------------------------------------------------------
    def _status(self, text: str | Text, error: bool = False) -> None:
        status = self.query_one("#search-status", Static)
        status.update(text if isinstance(text, Text) else Text(text))
        status.set_class(error, "-error")

    def _hint(self) -> str:
        return _("Type to search messages, contacts and tasks.")

    def _summary(self, results: SearchResults) -> str:
        if results.empty:
            return _("Nothing found.")
        parts = [ngettext("{n} message", "{n} messages", len(results.hits)).format(
            n=len(results.hits)) + ("+" if results.capped else ""),
            ngettext("{n} task", "{n} tasks", len(results.groups)).format(n=len(results.groups))]
        if results.contacts:
            parts.append(ngettext("{n} contact", "{n} contacts", len(results.contacts)).format(
                n=len(results.contacts)))
        if self.order == "newest":
            parts.append(_("newest first"))
        elif results.ranked:
            parts.append(_("best first"))
        elif results.hits:
            parts.append(_("too many to rank: newest first"))
        return " · ".join(parts)

    # ---- actions -------------------------------------------------------------------------
    def action_results(self, action: str) -> None:
        getattr(self.query_one(SearchResultsList), f"action_{action}")()

    def action_toggle_order(self) -> None:
        self.order = "newest" if self.order == "relevance" else "relevance"
        self.notify(_("Newest first") if self.order == "newest" else _("Best matches first"),
                    timeout=1.5)
        self._start()

    def action_close(self) -> None:
        self.workers.cancel_group(self, "search")
        self.dismiss(None)

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        hit = self.query_one(SearchResultsList).highlighted_hit()
        if hit is not None:
            self._open(hit)

    @on(SearchResultsList.Chosen)
    def _chosen(self, event: SearchResultsList.Chosen) -> None:
        event.stop()
        self._open(event.hit)

    def _open(self, hit: SearchHit) -> None:
        self.workers.cancel_group(self, "search")
        self.dismiss(hit)
