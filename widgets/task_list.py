"""The task list: a line-API list that never holds every task.

Why not ``OptionList`` or ``DataTable``: both build one object per row up front, which
takes seconds at 100,000 tasks. This widget loads one keyset page through its source
(the store) in a thread worker, renders only the rows the terminal shows, and asks
for the next page when the cursor or the scroll position nears the end of what is
loaded. Opening costs one page whatever the size of the inbox.

Live updates: the screen calls :meth:`TaskList.task_changed` on store events. The row
is re-fetched in a worker and re-sorted by last activity; the highlighted task stays
highlighted and keeps its place on screen (unless the operator sits at the very top,
where a task that jumps to the top should be seen).

Each task is two lines, readable at 80 columns and in a narrow left pane::

    ● TG  Ivan Petrov                       5m  3
          #12 Hello, where is my order?      Anna
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Protocol

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from storage.errors import NotFound
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.models import INACTIVE_STATUSES
from storage.rows import Page, TaskRow
from widgets.safe_text import one_line

__all__ = ["TaskList", "TaskSource", "age_label", "channel_tag", "task_matches"]

ROW_HEIGHT = 2
PAGE_SIZE = 50
PREFETCH_ROWS = 10  # load the next page when the cursor or the view is this close to the end

_CHANNEL_TAGS = {
    "telegram": "TG", "webchat": "WEB", "whatsapp": "WA", "vk": "VK", "viber": "VB",
    "facebook": "FB", "instagram": "IG", "email": "@", "api": "API",
}


class TaskSource(Protocol):
    """What the list reads from (the Store satisfies it)."""

    def list_tasks(self, f: TaskFilter | None = None, after: tuple[int, int] | None = None,
                   limit: int = 50) -> Page[TaskRow]: ...

    def get_task(self, task_id: int) -> TaskRow: ...


def channel_tag(kind: str) -> str:
    """A short tag for a channel kind (TG, WA, WEB...)."""
    return _CHANNEL_TAGS.get(kind, kind[:3].upper() or "—")


def age_label(then: datetime, now: datetime) -> str:
    """A compact age: ``now``, ``5m``, ``3h``, ``2d``, ``7w``, ``1y``."""
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return _("now")
    for size, unit in ((31_536_000, _("y")), (604_800, _("w")), (86_400, _("d")),
                       (3_600, _("h")), (60, _("m"))):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return _("now")  # pragma: no cover - loop always returns


def task_matches(row: TaskRow, f: TaskFilter | None) -> bool:
    """Whether ``row`` belongs in a list filtered by ``f``.

    Mirrors ``Queries._filtered``: the list needs it to decide, without a query, if a
    task that changed (a status, an assignee) still belongs on screen.
    """
    if f is None:
        return True
    if f.assignee_id is not None and row.assignee_id != f.assignee_id:
        return False
    if f.unassigned and row.assignee_id is not None:
        return False
    if f.channel_id is not None and row.channel_id != f.channel_id:
        return False
    if f.statuses and row.status not in f.statuses:
        return False
    if f.active_only and row.status in INACTIVE_STATUSES:
        return False
    return not (f.contact_id is not None and row.contact_id != f.contact_id)


def _sort_key(row: TaskRow) -> tuple[datetime, int]:
    return (row.last_activity_at, row.id)


@dataclass
class _Rows:
    """The loaded rows in display order (newest activity first) and an id index."""

    items: list[TaskRow]
    index: dict[int, int]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], {})

    def reindex(self) -> None:
        self.index = {row.id: i for i, row in enumerate(self.items)}


class TaskList(ScrollView, can_focus=True):
    """A virtual, paged list of tasks, newest activity first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", _("Next task"), id="tasks.next", show=False),
        Binding("k,up", "cursor_up", _("Previous task"), id="tasks.prev", show=False),
        Binding("home,g", "first", _("First task"), id="tasks.first", show=False),
        Binding("end,G", "last", _("Last loaded task"), id="tasks.last", show=False),
        Binding("pagedown", "page_down", _("Page down"), id="tasks.page_down", show=False),
        Binding("pageup", "page_up", _("Page up"), id="tasks.page_up", show=False),
        Binding("enter", "open", _("Open task"), id="tasks.open"),
        Binding("space", "mark", _("Mark task"), id="tasks.mark"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-list--cursor", "task-list--selected", "task-list--marked", "task-list--mark",
        "task-list--channel", "task-list--name", "task-list--age", "task-list--unread",
        "task-list--badge", "task-list--preview", "task-list--assignee",
        "task-list--unassigned", "task-list--number", "task-list--empty", "task-list--loading",
        "task-list--inactive",
    }

    DEFAULT_CSS = """
    TaskList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        & > .task-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .task-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .task-list--selected { background: $boost; }
        & > .task-list--marked { background: $accent 25%; }
        & > .task-list--mark { color: $accent; text-style: bold; }
        & > .task-list--channel { color: $secondary; text-style: bold; }
        & > .task-list--name { text-style: bold; }
        & > .task-list--unread { color: $primary; text-style: bold; }
        & > .task-list--badge { background: $primary; color: $text; text-style: bold; }
        & > .task-list--age { color: $text-muted; }
        & > .task-list--preview { color: $text-muted; }
        & > .task-list--number { color: $text-muted; }
        & > .task-list--assignee { color: $text-secondary; }
        & > .task-list--unassigned { color: $warning; text-style: italic; }
        & > .task-list--empty { color: $text-muted; text-style: italic; }
        & > .task-list--loading { color: $text-muted; }
        & > .task-list--inactive { color: $text-disabled; }
    }
    """

    class Highlighted(Message):
        """The cursor moved to ``task``."""

        def __init__(self, task_list: TaskList, task: TaskRow) -> None:
            super().__init__()
            self.task_list = task_list
            self.task = task

        @property
        def control(self) -> TaskList:
            return self.task_list

    class Selected(Message):
        """The operator opened ``task`` (enter)."""

        def __init__(self, task_list: TaskList, task: TaskRow) -> None:
            super().__init__()
            self.task_list = task_list
            self.task = task

        @property
        def control(self) -> TaskList:
            return self.task_list

    class MarksChanged(Message):
        """The set of marked (mass-selected) task ids changed."""

        def __init__(self, task_list: TaskList, ids: frozenset[int]) -> None:
            super().__init__()
            self.task_list = task_list
            self.ids = ids

        @property
        def control(self) -> TaskList:
            return self.task_list

    class _PageLoaded(Message):
        def __init__(self, token: int, page: Page[TaskRow], replace: bool) -> None:
            super().__init__()
            self.token = token
            self.page = page
            self.replace = replace

    class _TaskFetched(Message):
        def __init__(self, token: int, task_id: int, row: TaskRow | None) -> None:
            super().__init__()
            self.token = token
            self.task_id = task_id
            self.row = row

    class _LoadFailed(Message):
        def __init__(self, token: int, error: str) -> None:
            super().__init__()
            self.token = token
            self.error = error

    def __init__(self, source: TaskSource, filter: TaskFilter | None = None, *,
                 name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False, page_size: int = PAGE_SIZE) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source = source
        self._filter = filter
        self._page_size = page_size
        self._rows = _Rows.empty()
        self._next_cursor: tuple[int, int] | None = None
        self._exhausted = False
        self._loading = False
        self._token = 0  # bumped on every reload: late pages of an old filter are dropped
        self._cursor = 0
        self._highlighted_id: int | None = None
        self._selected_id: int | None = None
        self._pending_select: int | None = None
        self._marked: set[int] = set()
        self._revisions: dict[int, int] = {}
        self._generation = 0
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._error = ""
        self._plain = False
        self.pages_loaded = 0  # for tests and the benchmark: how many pages were fetched

    # ---- public API ----------------------------------------------------------------------
    @property
    def filter(self) -> TaskFilter | None:
        return self._filter

    @property
    def rows(self) -> tuple[TaskRow, ...]:
        """The rows loaded so far, in display order (never the whole inbox)."""
        return tuple(self._rows.items)

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        """True when every task matching the filter has been loaded."""
        return self._exhausted

    @property
    def highlighted_task(self) -> TaskRow | None:
        if not self._rows.items:
            return None
        return self._rows.items[min(self._cursor, len(self._rows.items) - 1)]

    @property
    def marked_ids(self) -> set[int]:
        """A copy of the marked task ids; assign a set to replace the marks."""
        return set(self._marked)

    @marked_ids.setter
    def marked_ids(self, ids: set[int]) -> None:
        self._marked = set(ids)
        self._invalidate()
        self.post_message(self.MarksChanged(self, frozenset(self._marked)))

    def clear_marks(self) -> None:
        if self._marked:
            self.marked_ids = set()

    def set_filter(self, filter: TaskFilter | None) -> None:
        """Show tasks matching ``filter`` (None: all), loading again from the top."""
        self._filter = filter
        if self._marked:
            self.marked_ids = set()
        self.reload()

    def reload(self) -> None:
        """Drop what is loaded and load the first page again (keeps the highlighted id)."""
        self._token += 1
        self._rows = _Rows.empty()
        self._next_cursor = None
        self._exhausted = False
        self._loading = False
        self._pending_select = self._highlighted_id
        self._cursor = 0
        self._error = ""
        self._update_virtual_size()
        self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self._invalidate()
        self._load_page(replace=True)

    def task_changed(self, task_id: int) -> None:
        """A task changed in the store: re-fetch it and move it to its place."""
        self._fetch_task(self._token, task_id)

    def select_task_id(self, task_id: int) -> bool:
        """Highlight ``task_id`` if loaded (else when its page arrives). True if it is now."""
        pos = self._rows.index.get(task_id)
        if pos is None:
            self._pending_select = task_id
            return False
        self._pending_select = None
        self._move_cursor(pos)
        return True

    def mark_selected(self, task_id: int | None) -> None:
        """Show ``task_id`` as the one opened in the conversation pane."""
        self._selected_id = task_id
        self._invalidate()

    # ---- loading -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._update_virtual_size()
        self._load_page(replace=True)
        self.set_interval(60, self._tick_ages)

    def _load_page(self, replace: bool = False) -> None:
        if self._loading or (self._exhausted and not replace):
            return
        self._loading = True
        self._fetch_page(self._token, None if replace else self._next_cursor, replace)

    @work(thread=True, group="task-list-page", exit_on_error=False)
    def _fetch_page(self, token: int, after: tuple[int, int] | None, replace: bool) -> None:
        try:
            page = self.source.list_tasks(self._filter, after=after, limit=self._page_size)
        except Exception as error:  # noqa: BLE001 - shown to the operator, list stays usable
            self.post_message(self._LoadFailed(token, str(error)))
            return
        self.post_message(self._PageLoaded(token, page, replace))

    @work(thread=True, group="task-list-row", exit_on_error=False)
    def _fetch_task(self, token: int, task_id: int) -> None:
        try:
            row: TaskRow | None = self.source.get_task(task_id)
        except NotFound:
            row = None
        except Exception as error:  # noqa: BLE001
            self.post_message(self._LoadFailed(token, str(error)))
            return
        self.post_message(self._TaskFetched(token, task_id, row))

    def on_task_list__page_loaded(self, message: _PageLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self._loading = False
        self.pages_loaded += 1
        items = self._rows.items
        if message.replace:
            items.clear()
        seen = {row.id for row in items}
        items.extend(row for row in message.page.items if row.id not in seen)
        self._rows.reindex()
        self._next_cursor = message.page.next_cursor
        self._exhausted = message.page.next_cursor is None
        self._update_virtual_size()
        self._invalidate()
        if self._pending_select is not None and self._pending_select in self._rows.index:
            pos = self._rows.index[self._pending_select]
            self._pending_select = None
            self._move_cursor(pos)
        elif message.replace and items:
            self._move_cursor(0)
        self._maybe_load_more()

    def on_task_list__load_failed(self, message: _LoadFailed) -> None:
        message.stop()
        if message.token != self._token:
            return
        self._loading = False
        self._error = message.error
        self._invalidate()

    def on_task_list__task_fetched(self, message: _TaskFetched) -> None:
        message.stop()
        if message.token != self._token:
            return
        self._apply_task(message.task_id, message.row)

    def _apply_task(self, task_id: int, row: TaskRow | None) -> None:
        """Put a re-fetched task at its sorted place, keeping the operator's place."""
        items = self._rows.items
        old_scroll = round(self.scroll_y)
        hid = self._highlighted_id
        old_hpos = self._rows.index.get(hid) if hid is not None else None
        old_pos = self._rows.index.get(task_id)
        if old_pos is not None:
            del items[old_pos]
        if row is not None and task_matches(row, self._filter):
            key = _sort_key(row)
            # Only insert within the loaded range: beyond it the row comes with a later page.
            if self._exhausted or (items and key > _sort_key(items[-1])) or old_pos is not None:
                pos = 0
                while pos < len(items) and _sort_key(items[pos]) > key:
                    pos += 1
                items.insert(pos, row)
        if row is not None:
            self._revisions[task_id] = self._revisions.get(task_id, 0) + 1
        if row is None or task_id not in {r.id for r in items}:
            self._marked.discard(task_id)
        self._rows.reindex()
        self._update_virtual_size()
        self._invalidate()
        if not items:
            self._cursor = 0
            return
        new_hpos = self._rows.index.get(hid) if hid is not None else None
        if new_hpos is None:
            # The highlighted task left the list (filtered out): stay at the same index.
            self._move_cursor(min(self._cursor, len(items) - 1))
            return
        self._cursor = new_hpos
        if old_hpos is not None and new_hpos != old_hpos:
            at_top = old_scroll == 0 and new_hpos * ROW_HEIGHT < self._view_height()
            if not at_top:
                self.scroll_to(y=old_scroll + (new_hpos - old_hpos) * ROW_HEIGHT,
                               animate=False, immediate=True, force=True)

    def _maybe_load_more(self) -> None:
        if self._loading or self._exhausted or not self.is_mounted:
            return
        loaded = len(self._rows.items)
        bottom_row = (round(self.scroll_y) + self._view_height()) // ROW_HEIGHT
        if self._cursor >= loaded - PREFETCH_ROWS or bottom_row >= loaded - PREFETCH_ROWS:
            self._load_page()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._maybe_load_more()

    def _tick_ages(self) -> None:
        """Ages are relative to now: re-render (visible rows only) once a minute."""
        self._invalidate()

    # ---- cursor and actions --------------------------------------------------------------
    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _move_cursor(self, pos: int, scroll: bool = True) -> None:
        items = self._rows.items
        if not items:
            return
        pos = max(0, min(pos, len(items) - 1))
        changed = pos != self._cursor or items[pos].id != self._highlighted_id
        self._cursor = pos
        self._highlighted_id = items[pos].id
        self._invalidate()
        if scroll:
            self.scroll_to_region(Region(0, pos * ROW_HEIGHT, 1, ROW_HEIGHT), animate=False,
                                  immediate=True, force=True)
        if changed:
            self.post_message(self.Highlighted(self, items[pos]))
        self._maybe_load_more()

    def action_cursor_down(self) -> None:
        self._move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self._cursor - 1)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        """The last loaded task (and load the next page: the list never loads everything)."""
        self._move_cursor(len(self._rows.items) - 1)

    def action_page_down(self) -> None:
        self._move_cursor(self._cursor + max(1, self._view_height() // ROW_HEIGHT))

    def action_page_up(self) -> None:
        self._move_cursor(self._cursor - max(1, self._view_height() // ROW_HEIGHT))

    def action_open(self) -> None:
        task = self.highlighted_task
        if task is not None:
            self._selected_id = task.id
            self._invalidate()
            self.post_message(self.Selected(self, task))

    def action_mark(self) -> None:
        task = self.highlighted_task
        if task is None:
            return
        if task.id in self._marked:
            self._marked.discard(task.id)
        else:
            self._marked.add(task.id)
        self._invalidate()
        self.post_message(self.MarksChanged(self, frozenset(self._marked)))

    def on_click(self, event: events.Click) -> None:
        pos = (round(self.scroll_y) + event.y) // ROW_HEIGHT
        if 0 <= pos < len(self._rows.items):
            self._move_cursor(pos, scroll=False)
            if event.chain > 1:
                self.action_open()

    # ---- rendering -----------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._generation += 1
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._generation += 1

    def _on_resize(self) -> None:
        self._update_virtual_size()
        self._generation += 1

    def _update_virtual_size(self) -> None:
        rows = len(self._rows.items)
        extra = 1 if (not self._exhausted or not rows) else 0
        self.virtual_size = Size(self.scrollable_content_region.width, rows * ROW_HEIGHT + extra)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_y) + y
        base = self.rich_style
        items = self._rows.items
        row_index, sub = divmod(line, ROW_HEIGHT)
        if row_index >= len(items):
            if line == len(items) * ROW_HEIGHT:
                return self._status_line(width, base)
            return Strip.blank(width, base)
        row = items[row_index]
        cursor = row_index == self._cursor
        key = (row.id, self._revisions.get(row.id, 0), width, sub, cursor,
               row.id in self._marked, row.id == self._selected_id, self.has_focus,
               self._generation)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row_line(row, sub, width, base, cursor)
            self._strips[key] = strip
        return strip

    def _status_line(self, width: int, base: Style) -> Strip:
        if self._error:
            text, cls = _("Could not load tasks: {error}").format(error=self._error), "task-list--empty"
        elif not self._exhausted or self._loading:
            text, cls = _("Loading…"), "task-list--loading"
        else:
            text, cls = _("No tasks here."), "task-list--empty"
        content = Text(one_line(text, max(0, width - 2)), style=self._part(cls))
        return self._to_strip(Text("  ") + content, width, base)

    def _to_strip(self, text: Text, width: int, base: Style) -> Strip:
        text.no_wrap = True
        text.overflow = "crop"
        segments = list(text.render(self.app.console))
        strip = Strip(segments)
        strip = strip.apply_style(base) if base else strip
        return strip.adjust_cell_length(width, base)

    def _render_row_line(self, row: TaskRow, sub: int, width: int, base: Style,
                         cursor: bool) -> Strip:
        style = self.get_component_rich_style
        line_style = base
        if row.id in self._marked:
            line_style = line_style + style("task-list--marked")
        if row.id == self._selected_id:
            line_style = line_style + style("task-list--selected")
        if cursor:
            line_style = line_style + style("task-list--cursor")
        self._plain = cursor  # on the cursor bar, pieces keep their weight but not their colour
        if sub == 0:
            text = self._first_line(row, width)
        else:
            text = self._second_line(row, width)
        self._plain = False
        return self._to_strip(text, width, line_style)

    def _part(self, name: str) -> Style:
        """A component's own style (no background): text pieces sit on the line's style.

        On the cursor row only bold/italic are kept, so no colour can vanish into the
        cursor's background (e.g. an unread name in $primary on a $primary bar)."""
        style = self.get_component_rich_style(name, partial=True)
        if self._plain:
            return Style(bold=style.bold, italic=style.italic)
        return style

    def _first_line(self, row: TaskRow, width: int) -> Text:
        style = self._part
        mark = "●" if row.id in self._marked else " "
        tag = channel_tag(row.channel_kind)[:3].ljust(3)
        age = age_label(row.last_activity_at, datetime.now(UTC))
        badge = f" {row.unread_count} " if row.unread_count else ""
        right_len = cell_len(age) + 1 + len(badge)
        name_width = max(1, width - 2 - 4 - right_len - 1)
        name = one_line(row.contact_name or _("(no name)"), name_width)
        text = Text()
        text.append(mark, style("task-list--mark"))
        text.append(" ")
        text.append(tag, style("task-list--channel"))
        text.append(" ")
        name_style = style("task-list--name")
        if row.unread_count:
            name_style = name_style + style("task-list--unread")
        if not row.active:
            name_style = name_style + style("task-list--inactive")
        text.append(name, name_style)
        pad = width - text.cell_len - right_len
        text.append(" " * max(1, pad))
        text.append(age, style("task-list--age"))
        if badge:
            text.append(" ")
            text.append(badge, style("task-list--badge"))
        return text

    def _second_line(self, row: TaskRow, width: int) -> Text:
        style = self._part
        if row.assignee_name:
            who, who_style = one_line(row.assignee_name, max(4, width // 4)), "task-list--assignee"
        else:
            who, who_style = _("unassigned"), "task-list--unassigned"
        number = f"#{row.number} "
        text = Text("      ")
        text.append(number, style("task-list--number"))
        room = max(1, width - text.cell_len - cell_len(who) - 2)
        preview = row.last_preview or row.title or ""
        text.append(one_line(preview, room), style("task-list--preview"))
        pad = width - text.cell_len - cell_len(who) - 1
        text.append(" " * max(1, pad))
        text.append(who, style(who_style))
        return text
