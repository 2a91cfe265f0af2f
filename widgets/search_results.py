"""The list of search results: task headers, their hits with highlighted words, contacts.

An ``OptionList`` is enough here because the result set is bounded by the search
(at most 200 hits, 20 tasks and 20 contacts, so a few hundred options at worst); the
unbounded lists of the console (tasks, threads) use the line API instead.

Client text is data: every prompt is built as ``rich.text.Text`` from plain strings
cleaned by :func:`widgets.safe_text.clean` (escape sequences and bidi controls made
visible), and matched words are highlighted by ``stylize`` over ranges — never by
markup. Cleaning can change a piece's length (``U+202E`` becomes ``‹U+202E›``), so
the snippet is cleaned piece by piece between the highlight ranges.

Selecting an option posts :class:`SearchResultsList.Chosen` with a
:class:`storage.search.SearchHit` (a task header gives a hit with no message: open the
task at its newest message).
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from storage.constants import EVENT, INBOUND, NOTE, OUTBOUND, STATUS_LABELS
from storage.i18n import _
from storage.search.rows import SearchHit, SearchResults
from widgets.safe_text import clean, one_line

__all__ = ["SearchResultsList", "hit_text", "snippet_text"]



def _kind_label(kind: str) -> str:
    labels = {INBOUND: _("client"), OUTBOUND: _("operator"), NOTE: _("note"), EVENT: _("event")}
    return labels.get(kind, kind)


def snippet_text(snippet: str, highlights: tuple[tuple[int, int], ...],
                 match: Style | str) -> Text:
    """The snippet as Text: each piece cleaned separately, matched ranges styled."""
    text = Text(no_wrap=True, overflow="ellipsis")
    pos = 0
    for start, end in sorted(highlights):
        if start < pos or end > len(snippet):
            continue
        text.append(clean(snippet[pos:start]))
        text.append(clean(snippet[start:end]), style=match)
        pos = end
    text.append(clean(snippet[pos:]))
    return text


def hit_text(hit: SearchHit, match: Style | str, meta: Style | str) -> Text:
    """One hit line: time, who wrote it, then the snippet."""
    when = hit.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if hit.created_at else ""
    who = one_line(hit.author, 18) if hit.author else _kind_label(hit.kind)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"  {when} ", style=meta)
    line.append(who, style=meta)
    if hit.kind == NOTE:
        line.append(" " + _("(note)"), style=meta)
    line.append("  ")
    line.append_text(snippet_text(hit.snippet, hit.highlights, match))
    return line


class SearchResultsList(OptionList):
    """Search results grouped by task; the screen feeds it with :meth:`show`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", _("Next result"), id="search.results.down", show=False),
        Binding("up", "cursor_up", _("Previous result"), id="search.results.up", show=False),
        Binding("pagedown", "page_down", _("Page down"), id="search.results.page_down",
                show=False),
        Binding("pageup", "page_up", _("Page up"), id="search.results.page_up", show=False),
        Binding("home", "first", _("First result"), id="search.results.first", show=False),
        Binding("end", "last", _("Last result"), id="search.results.last", show=False),
        Binding("enter", "select", _("Open"), id="search.results.open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "search-results--match", "search-results--meta", "search-results--task",
        "search-results--contact", "search-results--empty",
    }

    DEFAULT_CSS = """
    SearchResultsList {
        height: 1fr;
        border: none;
        background: $surface;
        & > .search-results--match { color: $warning; text-style: bold underline; }
        & > .search-results--meta { color: $text-muted; }
        & > .search-results--task { color: $accent; text-style: bold; }
        & > .search-results--contact { color: $secondary; }
        & > .search-results--empty { color: $text-muted; text-style: italic; }
    }
    """

    class Chosen(Message):
        """The operator chose a hit (Enter or click)."""

        def __init__(self, results: SearchResultsList, hit: SearchHit) -> None:
            super().__init__()
            self.results = results
            self.hit = hit

        @property
        def control(self) -> SearchResultsList:
            return self.results

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._hits: dict[str, SearchHit] = {}
        self._results: SearchResults | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._rebuild())

    @property
    def results(self) -> SearchResults | None:
        return self._results

    @property
    def hit_count(self) -> int:
        """How many selectable rows (task headers, hits and contacts) are shown."""
        return len(self._hits)

    def highlighted_hit(self) -> SearchHit | None:
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self._hits.get(option.id or "")

    def show(self, results: SearchResults | None) -> None:
        """Replace the list with ``results`` (None: empty); the first hit is highlighted."""
        self._results = results
        self._rebuild()

    def _rebuild(self) -> None:
        results = self._results
        self._hits = {}
        self.clear_options()
        if results is None:
            return
        match = self.get_component_rich_style("search-results--match")
        meta = self.get_component_rich_style("search-results--meta")
        task_style = self.get_component_rich_style("search-results--task")
        options: list[Option] = []
        first_hit: int | None = None
        for group in results.groups:
            task = group.task
            header = Text(no_wrap=True, overflow="ellipsis")
            header.append(f"#{task.number} ", style=task_style)
            header.append(clean(one_line(task.title, 200)), style=task_style)
            header.append("  " + clean(one_line(task.contact_name, 40)), style=meta)
            header.append(f"  {_(STATUS_LABELS.get(task.status, task.status))}", style=meta)
            key = f"t{task.id}"
            self._hits[key] = SearchHit(task_id=task.id, task_number=task.number)
            options.append(Option(header, id=key))
            if group.task_matched and first_hit is None and not group.hits:
                first_hit = len(options) - 1
            for hit in group.hits:
                key = f"m{hit.message_id}"
                self._hits[key] = hit
                options.append(Option(hit_text(hit, match, meta), id=key))
                if first_hit is None:
                    first_hit = len(options) - 1
        contact_style = self.get_component_rich_style("search-results--contact")
        for contact, task_id in zip(results.contacts, results.contact_task_ids, strict=False):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append("☎ " + clean(one_line(contact.name, 60)), style=contact_style)
            details = " ".join((*contact.phones, *contact.emails))
            if details:
                line.append("  " + clean(one_line(details, 80)), style=meta)
            key = f"c{contact.id}"
            options.append(Option(line, id=key, disabled=task_id is None))
            if task_id is not None:
                self._hits[key] = SearchHit(task_id=task_id)
        if not options:
            empty = self.get_component_rich_style("search-results--empty")
            options.append(Option(Text(_("Nothing found."), style=empty), id="empty",
                                  disabled=True))
        self.add_options(options)
        if first_hit is None and self._hits:
            first_hit = next(i for i, o in enumerate(options) if o.id in self._hits)
        self.highlighted = first_hit
        if first_hit is not None:
            self.scroll_to_highlight(top=True)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = self._hits.get(event.option.id or "")
        if hit is not None:
            self.post_message(self.Chosen(self, hit))
