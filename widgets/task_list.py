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

What a row says is in :mod:`widgets.task_list_render`; how pages and changed tasks
are loaded is in :mod:`widgets.task_list_loader`; the cursor and the keys are in
:mod:`widgets.task_list_keys`. This module declares the widget, its public API and how
it draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from storage.i18n import _
from storage.inputs import TaskFilter
from storage.rows import TaskRow
from widgets.safe_text import one_line
from widgets.strips import part_style, separate_blanks
from widgets.task_list_keys import TaskListNavigation
from widgets.task_list_loader import ROW_HEIGHT, TaskListLoader, TaskSource
from widgets.task_list_render import (
    Rows,
    age_label,
    channel_tag,
    first_line,
    second_line,
    task_matches,
)

__all__ = ["TaskList", "TaskSource", "age_label", "channel_tag", "task_matches"]

PAGE_SIZE = 50


class _ListMessage(Message):
    """A message from a task list; ``control`` lets ``@on(..., "#tasks")`` match it."""

    def __init__(self, task_list: TaskList) -> None:
        super().__init__()
        self.task_list = task_list

    @property
    def control(self) -> TaskList:
        return self.task_list


class _TaskMessage(_ListMessage):
    """A message about one ``task`` of the list."""

    def __init__(self, task_list: TaskList, task: TaskRow) -> None:
        super().__init__(task_list)
        self.task = task


class TaskList(TaskListNavigation, TaskListLoader, ScrollView, can_focus=True):
    """A virtual, paged list of tasks, newest activity first."""

    KEYMAP_GROUP = "tasks"  # its keys in the reference (console.keymap)
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
        "task-list--inactive", "task-list--draft", "task-list--status",
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
        & > .task-list--draft { color: $warning; text-style: bold; }
        & > .task-list--status { color: $secondary; }
    }
    """

    class Highlighted(_TaskMessage):
        """The cursor moved to ``task``."""

    class Selected(_TaskMessage):
        """The operator opened ``task`` (enter)."""

    class MarksChanged(_ListMessage):
        """The set of marked (mass-selected) task ids changed."""

        def __init__(self, task_list: TaskList, ids: frozenset[int]) -> None:
            super().__init__(task_list)
            self.ids = ids

    def __init__(self, source: TaskSource, filter: TaskFilter | None = None, *,
                 name: str | None = None, id: str | None = None, classes: str | None = None,
                 disabled: bool = False, page_size: int = PAGE_SIZE,
                 clock: Callable[[], datetime] | None = None,
                 channel_tags: Mapping[str, str] | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source = source
        # Ages ("5m", "2d") are relative to this clock: injectable so tests and
        # snapshots show the same ages whatever day they run.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._filter = filter
        self._page_size = page_size
        self._rows = Rows.empty()
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
        self._pending_changes: set[int] = set()
        self._drafts: frozenset[int] = frozenset()
        self._presence: dict[int, str] = {}
        self._channel_tags: dict[str, str] = dict(channel_tags or {})
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
        self._pending_changes.clear()
        self._rows = Rows.empty()
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
        """A task changed in the store: re-fetch it and move it to its place.

        While a page is loading, the id is also remembered and fetched again after the
        page lands: the page's query may have run before the change was committed."""
        if self._loading:
            self._pending_changes.add(task_id)
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

    @property
    def drafts(self) -> frozenset[int]:
        """The tasks shown with a draft marker (the operator's unsent text)."""
        return self._drafts

    @drafts.setter
    def drafts(self, ids: frozenset[int]) -> None:
        if ids != self._drafts:
            self._drafts = frozenset(ids)
            self._invalidate()

    @property
    def presence(self) -> dict[int, str]:
        """Task id → the mark of another operator in it (viewing or typing)."""
        return dict(self._presence)

    @presence.setter
    def presence(self, marks: dict[int, str]) -> None:
        if marks != self._presence:
            self._presence = dict(marks)
            self._invalidate()

    @property
    def channel_tags(self) -> dict[str, str]:
        """Channel kind → its tag in the rows ("TG"), as each channel's plug-in declares
        it (the console hands it down); a kind not named here shows its first letters."""
        return dict(self._channel_tags)

    @channel_tags.setter
    def channel_tags(self, tags: Mapping[str, str]) -> None:
        if dict(tags) != self._channel_tags:
            self._channel_tags = dict(tags)
            self._invalidate()

    def mark_selected(self, task_id: int | None) -> None:
        """Show ``task_id`` as the one opened in the conversation pane."""
        if task_id != self._selected_id:
            self._refresh_tasks(self._selected_id, task_id)
            self._selected_id = task_id

    def show_meanwhile(self, rows: tuple[TaskRow, ...]) -> None:
        """Show ``rows`` until the first page arrives, which replaces them (the console's
        first frame hands its rows over so the list never blinks "Loading…")."""
        if self.pages_loaded or self._rows.items:
            return
        self._rows.items.extend(rows)
        self._rows.reindex()
        self._update_virtual_size()
        self._invalidate()

    # ---- loading -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._update_virtual_size()
        self._load_page(replace=True)
        self.set_interval(60, self._tick_ages)

    # ---- rendering -----------------------------------------------------------------------
    def _invalidate(self) -> None:
        """Everything may look different: render every visible line again."""
        self._generation += 1
        self.refresh()

    def _refresh_rows(self, *positions: int | None) -> None:
        """Repaint only the rows at these indexes (a cursor move, a mark): the lines of
        the other rows are still right, and their strips stay cached."""
        for pos in {p for p in positions if p is not None and p < len(self._rows.items)}:
            self.refresh_lines(pos * ROW_HEIGHT, ROW_HEIGHT)

    def _refresh_tasks(self, *task_ids: int | None) -> None:
        """Repaint only the rows of these tasks (those loaded)."""
        self._refresh_rows(*(self._rows.index.get(t) for t in task_ids if t is not None))

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
            # One status line below the rows: loading, an error, or "no tasks" (only
            # when there are none: under a complete list it read as "nothing here").
            if line == len(items) * ROW_HEIGHT and (self._error or not self._exhausted
                                                    or self._loading or not items):
                return self._status_line(width, base)
            return Strip.blank(width, base)
        row = items[row_index]
        cursor = row_index == self._cursor
        key = (row.id, self._revisions.get(row.id, 0), width, sub, cursor,
               row.id in self._marked, row.id == self._selected_id, self.has_focus,
               row.id in self._drafts, self._presence.get(row.id, ""), self._generation)
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
        segments = separate_blanks(text.render(self.app.console))  # see widgets.strips
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
            text = first_line(row, width, self._part, row.id in self._marked, self.clock(),
                              self._presence.get(row.id, ""), row.id == self._selected_id,
                              self._channel_tags)
        else:
            text = second_line(row, width, self._part, row.id in self._drafts)
        self._plain = False
        return self._to_strip(text, width, line_style)

    def _part(self, name: str) -> Style:
        """A component's own style (no background): text pieces sit on the line's style.

        On the cursor row only bold/italic are kept, so no colour can vanish into the
        cursor's background (e.g. an unread name in $primary on a $primary bar)."""
        style = part_style(self, name)
        if self._plain:
            return Style(bold=style.bold, italic=style.italic)
        return style

