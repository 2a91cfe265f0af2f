"""How the task list loads: keyset pages and single re-fetched tasks, in thread workers.

A mixin of :class:`widgets.task_list.TaskList`. Pages come through the source
(``list_tasks``) one at a time, only when the cursor or the view nears the end of what
is loaded; a changed task is re-fetched alone (``get_task``) and moved to its sorted
place without losing the operator's highlighted task or its place on screen. Every
load carries the list's ``_token``; results of an older filter are dropped.
"""

from __future__ import annotations

from typing import Protocol

from textual import work
from textual.message import Message

from storage.errors import NotFound
from storage.inputs import TaskFilter
from storage.rows import Page, TaskRow
from widgets.task_list_render import Rows, sort_key, task_matches


class TaskSource(Protocol):
    """What the list reads from (the Store satisfies it)."""

    def list_tasks(self, f: TaskFilter | None = None, after: tuple[int, int] | None = None,
                   limit: int = 50) -> Page[TaskRow]: ...

    def get_task(self, task_id: int) -> TaskRow: ...

ROW_HEIGHT = 2
PREFETCH_ROWS = 10  # load the next page when the cursor or the view is this close to the end


class PageLoaded(Message, bubble=False):
    """Private: a page of tasks arrived from the worker."""

    def __init__(self, token: int, page: Page[TaskRow], replace: bool) -> None:
        super().__init__()
        self.token = token
        self.page = page
        self.replace = replace

class TaskFetched(Message, bubble=False):
    """Private: one re-fetched task (None: it no longer exists)."""

    def __init__(self, token: int, task_id: int, row: TaskRow | None) -> None:
        super().__init__()
        self.token = token
        self.task_id = task_id
        self.row = row

class LoadFailed(Message, bubble=False):
    """Private: a load failed; the list shows why and stays usable."""

    def __init__(self, token: int, error: str) -> None:
        super().__init__()
        self.token = token
        self.error = error


class TaskListState:
    """The fields TaskList's mixins share, declared once (``TaskList.__init__`` sets them)."""

    source: TaskSource
    _filter: TaskFilter | None
    _page_size: int
    _rows: Rows
    _next_cursor: tuple[int, int] | None
    _exhausted: bool
    _loading: bool
    _token: int
    _cursor: int
    _highlighted_id: int | None
    _selected_id: int | None
    _pending_select: int | None
    _pending_changes: set[int]
    _marked: set[int]
    _revisions: dict[int, int]
    _error: str
    pages_loaded: int


class TaskListLoader(TaskListState):
    """Paging and live re-sorting for TaskList (see the module docstring)."""

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
            self.post_message(LoadFailed(token, str(error)))
            return
        self.post_message(PageLoaded(token, page, replace))

    @work(thread=True, group="task-list-row", exit_on_error=False)
    def _fetch_task(self, token: int, task_id: int) -> None:
        try:
            row: TaskRow | None = self.source.get_task(task_id)
        except NotFound:
            row = None
        except Exception as error:  # noqa: BLE001
            self.post_message(LoadFailed(token, str(error)))
            return
        self.post_message(TaskFetched(token, task_id, row))

    def on_page_loaded(self, message: PageLoaded) -> None:
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
        pending, self._pending_changes = self._pending_changes, set()
        for task_id in pending:
            self._fetch_task(self._token, task_id)
        self._maybe_load_more()

    def on_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        if message.token != self._token:
            return
        self._loading = False
        self._error = message.error
        self._invalidate()

    def on_task_fetched(self, message: TaskFetched) -> None:
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
            key = sort_key(row)
            # Only insert within the loaded range: beyond it the row comes with a later page.
            if self._exhausted or (items and key > sort_key(items[-1])) or old_pos is not None:
                pos = 0
                while pos < len(items) and sort_key(items[pos]) > key:
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
