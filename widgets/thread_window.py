"""How the conversation pane's window of messages is loaded, paged and kept bounded.

A mixin of :class:`widgets.thread_view.ThreadView`, apart so that each module keeps
one job: this one talks to the source in thread workers and applies what comes back
(replace the window, prepend an older page, append a newer one, add or refresh one
message, trim the far side); ``thread_layout`` lays the window out and ``thread_view``
draws it.

Every load carries the view's ``_token``; a result whose token is stale (the operator
opened another task or jumped meanwhile) is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from storage.errors import NotFound
from storage.rows import MessageRow, TaskRow

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime, tzinfo

    from textual.cache import LRUCache
    from textual.strip import Strip

    from widgets.thread_render import ThreadStyles
    from widgets.thread_view import ThreadSource

Cursor = tuple[int, int]
THREAD_START: Cursor = (-(1 << 62), 0)
HEADER_LINES = 1


class WindowLoaded(Message, bubble=False):
    """Private: a page arrived; ``mode`` is replace, older, newer, added or changed."""

    def __init__(self, token: int, mode: str, items: tuple[MessageRow, ...],
                 older: Cursor | None, newer: Cursor | None, select_id: int | None,
                 numbers: dict[int, int], task: TaskRow | None = None,
                 at_end: bool = False) -> None:
        super().__init__()
        self.token, self.mode, self.items = token, mode, items
        self.older, self.newer, self.select_id = older, newer, select_id
        self.numbers, self.task, self.at_end = numbers, task, at_end

class WindowFailed(Message, bubble=False):
    """Private: a load failed; the pane shows the error."""

    def __init__(self, token: int, error: str) -> None:
        super().__init__()
        self.token, self.error = token, error


class ThreadState:
    """The fields ThreadView's mixins share, declared once (``ThreadView.__init__`` sets them)."""

    source: ThreadSource
    _open_task: TaskRow | None
    _msgs: list[MessageRow]
    _older: Cursor | None
    _newer: Cursor | None
    _offsets: list[int]
    _heights: list[int]
    _total: int
    _sel: int | None
    _token: int
    _page_size: int
    _max_window: int
    _loading: bool
    _loading_older: bool
    _placing: bool
    _loading_newer: bool
    _error: str
    _revs: dict[int, int]
    _numbers: dict[int, int]
    _pending_added: set[int]
    _held: list[MessageRow]
    _paint_pending: int | None
    _shown_token: int
    _generation: int
    _blocks: LRUCache[tuple[object, ...], list[Strip]]
    _styles: ThreadStyles | None
    _layout_width: int
    clock: Callable[[], datetime]
    tz: tzinfo | None
    pages_loaded: int


FIRST_FRAME_AT_LATEST = 0.25  # seconds: a window not drawn by then goes on without it


class ThreadWindow(ThreadState):
    """Loading and paging for ThreadView (see the module docstring)."""

    def _first_page_size(self) -> int:
        """Opening needs about one screenful, not a page: a message takes two lines or more
        (header and text; events one), so half the view's height in messages fills it.
        The first frame is drawn from the newest of them that fill the view, the rest of
        the page joins right after it, then the page before follows in the background."""
        return max(10, min(self._page_size, self._view_height() // 2))

    def _numbers_for(self, items: tuple[MessageRow, ...]) -> dict[int, int]:
        """Task numbers for "moved from #N" marks (runs in the worker thread)."""
        found: dict[int, int] = {}
        for tid in {m.moved_from_task_id for m in items if m.moved_from_task_id is not None}:
            if tid in self._numbers:
                continue
            try:
                found[tid] = self.source.get_task(tid).number
            except NotFound:
                continue
        return found

    @work(thread=True, group="thread-load", exit_on_error=False)
    def _load_end(self, token: int, task: TaskRow) -> None:
        try:
            page = self.source.thread_before(task.id, None, self._first_page_size())
            numbers = self._numbers_for(page.items)
        except Exception as error:  # noqa: BLE001 - shown in the pane; the app goes on
            self.post_message(WindowFailed(token, str(error)))
            return
        last = page.items[-1].id if page.items else None
        self.post_message(WindowLoaded(token, "replace", page.items, page.next_cursor, None,
                                       last, numbers, at_end=True))

    @work(thread=True, group="thread-load", exit_on_error=False)
    def _load_start(self, token: int, task: TaskRow) -> None:
        try:
            page = self.source.thread_after(task.id, THREAD_START, self._page_size)
            numbers = self._numbers_for(page.items)
        except Exception as error:  # noqa: BLE001
            self.post_message(WindowFailed(token, str(error)))
            return
        first = page.items[0].id if page.items else None
        self.post_message(WindowLoaded(token, "replace", page.items, None, page.next_cursor,
                                       first, numbers))

    @work(thread=True, group="thread-load", exit_on_error=False)
    def _load_around(self, token: int, task: TaskRow | None, message_id: int) -> None:
        try:
            target = self.source.get_message(message_id)
            if task is None or task.id != target.task_id:
                task = self.source.get_task(target.task_id)
            before, after = self.source.thread_around(task.id, message_id, self._page_size)
            items = before.items + after.items
            numbers = self._numbers_for(items)
        except Exception as error:  # noqa: BLE001
            self.post_message(WindowFailed(token, str(error)))
            return
        self.post_message(WindowLoaded(token, "replace", items, before.next_cursor,
                                       after.next_cursor, message_id, numbers, task=task))

    @work(thread=True, group="thread-page", exit_on_error=False)
    def _load_page(self, token: int, task_id: int, mode: str, cursor: Cursor) -> None:
        try:
            if mode == "older":
                page = self.source.thread_before(task_id, cursor, self._page_size)
            else:
                page = self.source.thread_after(task_id, cursor, self._page_size)
            numbers = self._numbers_for(page.items)
        except Exception as error:  # noqa: BLE001
            self.post_message(WindowFailed(token, str(error)))
            return
        self.post_message(WindowLoaded(token, mode, page.items, page.next_cursor,
                                       page.next_cursor, None, numbers))

    @work(thread=True, group="thread-one", exit_on_error=False)
    def _load_one(self, token: int, message_id: int, mode: str) -> None:
        try:
            msg = self.source.get_message(message_id)
            numbers = self._numbers_for((msg,))
        except NotFound:
            return
        except Exception as error:  # noqa: BLE001
            self.post_message(WindowFailed(token, str(error)))
            return
        self.post_message(WindowLoaded(token, mode, (msg,), None, None, None, numbers))

    def on_window_failed(self, message: WindowFailed) -> None:
        message.stop()
        if message.token == self._token:
            self._loading = self._loading_older = self._loading_newer = False
            self._error = message.error
            self._relayout()

    def on_window_loaded(self, message: WindowLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self._numbers.update(message.numbers)
        self.pages_loaded += 1
        handler = {"replace": self._apply_replace, "older": self._apply_older,
                   "newer": self._apply_newer, "added": self._apply_added,
                   "changed": self._apply_changed}[message.mode]
        handler(message)
        self.refresh_bindings()

    def _apply_replace(self, message: WindowLoaded) -> None:
        if message.task is not None:
            self._open_task = message.task
        self._loading = False
        self._msgs = list(message.items)
        self._older, self._newer = message.older, message.newer
        self._blocks.clear()
        if message.at_end:
            # The first frame is drawn from the newest messages that fill the view; the
            # rest of the page (already here) is laid out right after it.
            start = self._screenful_start()
            self._held, self._msgs = self._msgs[:start], self._msgs[start:]
        self._relayout()
        index = self._index_of(message.select_id)
        # Scrolling into place below must not start the prefetch of the neighbouring page
        # yet: the first frame is drawn from this page alone, the prefetch follows it.
        self._placing = True
        try:
            self._place_window(message, index)
        finally:
            self._placing = False
        pending, self._pending_added = self._pending_added, set()
        if self._newer is None:
            for message_id in sorted(pending):
                if not self._holds(message_id):
                    self._load_one(self._token, message_id, "added")
        self._await_first_frame(self._token)

    def _await_first_frame(self, token: int) -> None:
        """Call :meth:`_first_frame_shown` once the window has been drawn: from the next
        ``render_line`` (see ThreadView), or after :data:`FIRST_FRAME_AT_LATEST` when the
        view is not drawn (hidden, covered). ``call_after_refresh`` is not enough: with no
        layout pending it may run before the repaint."""
        self._paint_pending = token
        self.set_timer(FIRST_FRAME_AT_LATEST, lambda: self._first_frame_shown(token))

    def _first_frame_shown(self, token: int) -> None:
        """The page's first frame is on screen: the rest of the page joins, then paging."""
        if token != self._token or self._shown_token == token:
            return  # another window replaced it, or this frame was already handled
        self._shown_token, self._paint_pending = token, None
        self._window_drawn()
        self._release_held(token)

    def _window_drawn(self) -> None:
        """Called once per new window, when its first frame is on screen and before the
        rest of the page joins (a hook: the benchmark's clock, the tests)."""

    def _holds(self, message_id: int) -> bool:
        """Whether the message is in the window or in the head waiting to join it."""
        return any(m.id == message_id for m in self._msgs) or any(
            m.id == message_id for m in self._held)

    def _screenful_start(self) -> int:
        """Index of the oldest message needed to fill the view, counting from the newest."""
        ctx = self._render_context() if self.is_mounted else None
        if ctx is None:
            return 0
        need, lines = self._view_height(), HEADER_LINES
        for index in range(len(self._msgs) - 1, 0, -1):
            lines += len(self._block(index, ctx))
            if lines >= need:
                return index
        return 0

    def _release_held(self, token: int) -> None:
        """Put the held-back head of the first page above the window, the view unmoved."""
        held, self._held = self._held, []
        if held and token == self._token:
            before = self._total
            self._msgs[:0] = held
            if self._sel is not None:
                self._sel += len(held)
            self._relayout()
            self.scroll_to(y=round(self.scroll_y) + self._total - before, animate=False,
                           immediate=True, force=True)
        self._maybe_page()

    def _place_window(self, message: WindowLoaded, index: int | None) -> None:
        if message.at_end:
            self._set_selection(index, scroll=False)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        else:
            self._set_selection(index, scroll=False)
            if index is not None:
                top = max(0, self._offsets[index] - self._view_height() // 3)
                self.scroll_to(y=top, animate=False, immediate=True, force=True)
            else:
                self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def _apply_older(self, message: WindowLoaded) -> None:
        self._loading_older = False
        known = {m.id for m in self._msgs}
        items = [m for m in message.items if m.id not in known]
        self._older = message.older
        if not items:
            self._relayout()
            return
        before = self._total
        self._msgs[:0] = items
        if self._sel is not None:
            self._sel += len(items)
        self._relayout()
        self.scroll_to(y=round(self.scroll_y) + self._total - before, animate=False, immediate=True, force=True)
        self._trim(from_start=False)

    def _apply_newer(self, message: WindowLoaded) -> None:
        self._loading_newer = False
        known = {m.id for m in self._msgs}
        self._msgs.extend(m for m in message.items if m.id not in known)
        self._newer = message.newer
        self._relayout()
        self._trim(from_start=True)

    def _apply_added(self, message: WindowLoaded) -> None:
        msg = message.items[0]
        if self._open_task is None or msg.task_id != self._open_task.id or self._newer is not None:
            return
        if self._holds(msg.id):
            self._apply_changed(message)
            return
        follow = round(self.scroll_y) >= self.max_scroll_y
        was_last = self._sel is not None and self._sel == len(self._msgs) - 1
        pos = len(self._msgs)
        while pos > 0 and self._msgs[pos - 1].cursor > msg.cursor:
            pos -= 1
        self._msgs.insert(pos, msg)
        if self._sel is not None and pos <= self._sel:
            self._sel += 1
        self._relayout()
        if was_last and follow and pos == len(self._msgs) - 1:
            self._set_selection(pos, scroll=False)
        if follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self._trim(from_start=True)

    def _apply_changed(self, message: WindowLoaded) -> None:
        msg = message.items[0]
        index = self._index_of(msg.id)
        if index is None:  # not drawn yet: the head of the first page, if it is there
            self._held = [msg if m.id == msg.id else m for m in self._held]
            return
        old_height = self._heights[index]
        self._msgs[index] = msg
        self._revs[msg.id] = self._revs.get(msg.id, 0) + 1
        self._relayout()
        first_visible = self._block_at(round(self.scroll_y))
        if first_visible is not None and index < first_visible:
            delta = self._heights[index] - old_height
            self.scroll_to(y=round(self.scroll_y) + delta, animate=False, immediate=True, force=True)
        if index == self._sel:
            self.post_message(self.MessageSelected(self, msg))

    def _trim(self, from_start: bool) -> None:
        """Keep the window bounded: drop the far side (the side the operator left)."""
        excess = len(self._msgs) - self._max_window
        if excess <= 0:
            return
        if from_start:
            cut = self._offsets[excess] - HEADER_LINES
            del self._msgs[:excess]
            self._older = self._msgs[0].cursor
            if self._sel is not None:
                self._sel = max(0, self._sel - excess)
            self._relayout()
            self.scroll_to(y=max(0, round(self.scroll_y) - cut), animate=False, immediate=True, force=True)
        else:
            del self._msgs[-excess:]
            self._newer = self._msgs[-1].cursor
            if self._sel is not None:
                self._sel = min(self._sel, len(self._msgs) - 1)
            self._relayout()

    def _maybe_page(self) -> None:
        """Load the next page when the view comes near an unloaded edge of the window."""
        if (self._open_task is None or self._loading or self._placing or self._held
                or not self.is_mounted):
            return
        margin = self._view_height()
        y = round(self.scroll_y)
        if self._older is not None and not self._loading_older and y < margin:
            self._loading_older = True
            self._load_page(self._token, self._open_task.id, "older", self._older)
        if (self._newer is not None and not self._loading_newer
                and y > self.max_scroll_y - margin):
            self._loading_newer = True
            self._load_page(self._token, self._open_task.id, "newer", self._newer)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._maybe_page()
