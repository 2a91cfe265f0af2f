"""The conversation pane: a line-API view over a bounded window of one task's thread.

Why a window: a thread may hold 50,000 messages; one widget per message (or even one
rendered block per message) is linear in history. This view holds at most
:data:`MAX_WINDOW` messages, loaded by keyset pages in thread workers:

* :meth:`ThreadView.show_task` loads the newest page and opens at the end;
* scrolling near the top loads the page before the window, near the bottom the page
  after it (when the window does not reach the end); the far side is trimmed;
* :meth:`ThreadView.jump_to` replaces the window with the page around one message.

Block heights are kept as running totals (``_offsets``) and a line is found with
``bisect``. Rendered blocks sit in an LRU cache keyed by (message id, revision,
width, day separator, generation); the generation is bumped when the theme's styles
change. New messages are followed only while the view sits at the bottom.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import ClassVar, Protocol

from rich.segment import Segment
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
from storage.models import FAILED, OUTBOUND
from storage.rows import MessageRow, Page, TaskRow
from widgets.thread_render import RenderContext, ThreadStyles, local, render_message

__all__ = ["ThreadSource", "ThreadView", "MAX_WINDOW", "PAGE_SIZE"]

Cursor = tuple[int, int]
PAGE_SIZE = 100
MAX_WINDOW = 400
HEADER_LINES = 1
THREAD_START: Cursor = (-(1 << 62), 0)


class ThreadSource(Protocol):
    """What the view reads from (the Store satisfies it)."""

    def thread_before(self, task_id: int, before: Cursor | None = None,
                      limit: int = 100) -> Page[MessageRow]: ...

    def thread_after(self, task_id: int, after: Cursor, limit: int = 100) -> Page[MessageRow]: ...

    def thread_around(self, task_id: int, message_id: int,
                      limit: int = 100) -> tuple[Page[MessageRow], Page[MessageRow]]: ...

    def get_message(self, message_id: int) -> MessageRow: ...

    def get_task(self, task_id: int) -> TaskRow: ...


_STYLE_NAMES = {
    "inbound": "thread-view--inbound", "outbound": "thread-view--outbound",
    "note": "thread-view--note", "note_mark": "thread-view--note-mark",
    "event": "thread-view--event", "day": "thread-view--day",
    "author": "thread-view--author", "meta": "thread-view--meta",
    "delivery": "thread-view--delivery", "read": "thread-view--read",
    "failed": "thread-view--failed", "attachment": "thread-view--attachment",
    "truncated": "thread-view--truncated", "cursor": "thread-view--cursor",
}
_PARTIAL = {"note_mark", "event", "day", "author", "meta", "delivery", "read", "failed",
            "attachment", "truncated"}


class ThreadView(ScrollView, can_focus=True):
    """One task's conversation, as the client sees it, with delivery states and notes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k,up", "prev_message", _("Previous message"), id="thread.prev_message", show=False),
        Binding("j,down", "next_message", _("Next message"), id="thread.next_message", show=False),
        Binding("home", "top", _("First message"), id="thread.top", show=False),
        Binding("end", "bottom", _("Last message"), id="thread.bottom", show=False),
        Binding("pageup", "page_up", _("Page up"), id="thread.page_up", show=False),
        Binding("pagedown", "page_down", _("Page down"), id="thread.page_down", show=False),
        Binding("r", "retry", _("Retry sending"), id="thread.retry"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = set(_STYLE_NAMES.values()) | {
        "thread-view--header", "thread-view--empty"}

    DEFAULT_CSS = """
    ThreadView {
        background: $background;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        & > .thread-view--inbound { background: $panel; color: $foreground; }
        & > .thread-view--outbound { background: $primary 20%; color: $foreground; }
        & > .thread-view--note { background: $warning 18%; color: $foreground; }
        & > .thread-view--note-mark { color: $warning; text-style: bold; }
        & > .thread-view--event { color: $text-muted; text-style: italic; }
        & > .thread-view--day { color: $text-muted; text-style: bold; }
        & > .thread-view--author { color: $accent; text-style: bold; }
        & > .thread-view--meta { color: $text-muted; }
        & > .thread-view--delivery { color: $text-muted; }
        & > .thread-view--read { color: $success; text-style: bold; }
        & > .thread-view--failed { color: $error; text-style: bold; }
        & > .thread-view--attachment { color: $secondary; }
        & > .thread-view--truncated { color: $text-muted; text-style: italic; }
        & > .thread-view--cursor { color: $accent; background: $background; }
        &:focus > .thread-view--cursor { color: $block-cursor-background; }
        & > .thread-view--header { color: $text-muted; }
        & > .thread-view--empty { color: $text-muted; text-style: italic; }
    }
    """

    class MessageSelected(Message):
        """The keyboard cursor moved to ``message``."""

        def __init__(self, view: ThreadView, message: MessageRow) -> None:
            super().__init__()
            self.view = view
            self.message = message

        @property
        def control(self) -> ThreadView:
            return self.view

    class RetryRequested(Message):
        """The operator asked to send a failed outbound ``message`` again."""

        def __init__(self, view: ThreadView, message: MessageRow) -> None:
            super().__init__()
            self.view = view
            self.message = message

        @property
        def control(self) -> ThreadView:
            return self.view

    class _Window(Message):
        """A page arrived: ``mode`` is replace, older, newer or one (a single message)."""

        def __init__(self, token: int, mode: str, items: tuple[MessageRow, ...],
                     older: Cursor | None, newer: Cursor | None, select_id: int | None,
                     numbers: dict[int, int], task: TaskRow | None = None,
                     at_end: bool = False) -> None:
            super().__init__()
            self.token, self.mode, self.items = token, mode, items
            self.older, self.newer, self.select_id = older, newer, select_id
            self.numbers, self.task, self.at_end = numbers, task, at_end

    class _Failed(Message):
        def __init__(self, token: int, error: str) -> None:
            super().__init__()
            self.token, self.error = token, error

    def __init__(self, source: ThreadSource, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False,
                 page_size: int = PAGE_SIZE, max_window: int = MAX_WINDOW) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source = source
        self._page_size = page_size
        self._max_window = max(max_window, 2 * page_size)
        self._open_task: TaskRow | None = None
        self._msgs: list[MessageRow] = []
        self._older: Cursor | None = None  # None: the window starts at the thread's start
        self._newer: Cursor | None = None  # None: the window reaches the newest message
        self._offsets: list[int] = []
        self._heights: list[int] = []
        self._total = HEADER_LINES
        self._sel: int | None = None
        self._token = 0
        self._loading_older = False
        self._loading_newer = False
        self._loading = False
        self._error = ""
        self._revs: dict[int, int] = {}
        self._numbers: dict[int, int] = {}
        self._generation = 0
        self._styles: ThreadStyles | None = None
        self._blocks: LRUCache[tuple[object, ...], list[Strip]] = LRUCache(2048)
        self._layout_width = 0
        self.pages_loaded = 0  # for tests and the benchmark

    # ---- public API ----------------------------------------------------------------------
    @property
    def current_task(self) -> TaskRow | None:
        """The task whose thread is shown (``task`` is taken by Textual's MessagePump)."""
        return self._open_task

    @property
    def messages(self) -> tuple[MessageRow, ...]:
        """The messages in the window, oldest first (never the whole thread)."""
        return tuple(self._msgs)

    @property
    def at_start(self) -> bool:
        return self._older is None

    @property
    def at_end(self) -> bool:
        return self._newer is None

    @property
    def is_loading(self) -> bool:
        return self._loading or self._loading_older or self._loading_newer

    @property
    def selected_message(self) -> MessageRow | None:
        if self._sel is None or not (0 <= self._sel < len(self._msgs)):
            return None
        return self._msgs[self._sel]

    def show_task(self, task: TaskRow) -> None:
        """Open ``task`` at its newest message (one page, whatever the thread's length)."""
        self._reset(task)
        self._loading = True
        self._load_end(self._token, task)

    def jump_to(self, message_id: int, task: TaskRow | None = None) -> None:
        """Replace the window with the page around ``message_id`` and highlight it.

        ``task`` may name the message's task; without it (or if the message belongs to
        another task) the task is looked up.
        """
        if task is not None and (self._open_task is None or task.id != self._open_task.id):
            self._reset(task)
        self._token += 1
        self._loading = True
        self._load_around(self._token, self._open_task, message_id)

    def clear(self) -> None:
        """Show nothing (no task open)."""
        self._reset(None)
        self._relayout()

    def reload(self) -> None:
        """Open the current task again at its end (e.g. after a merge moved messages in)."""
        if self._open_task is not None:
            self.show_task(self._open_task)

    def message_changed(self, message_id: int) -> None:
        """A message changed in the store: re-fetch it if it is in the window."""
        if any(m.id == message_id for m in self._msgs):
            self._load_one(self._token, message_id, "changed")

    def message_added(self, message_id: int) -> None:
        """A message was stored: show it if the window reaches the end of this thread."""
        if self._open_task is not None and self._newer is None and not self._loading:
            self._load_one(self._token, message_id, "added")

    # ---- loading (thread workers; results come back as messages) -------------------------
    def _reset(self, task: TaskRow | None) -> None:
        self._token += 1
        self._open_task = task
        self._msgs = []
        self._older = self._newer = None
        self._sel = None
        self._loading = self._loading_older = self._loading_newer = False
        self._error = ""
        self._blocks.clear()
        self._relayout()
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def _first_page_size(self) -> int:
        """Opening needs about one screenful, not a page: a message takes two lines or more
        (header and text; events one), so half the view's height in messages fills it.
        The page before follows in the background right after the first frame."""
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
            self.post_message(self._Failed(token, str(error)))
            return
        last = page.items[-1].id if page.items else None
        self.post_message(self._Window(token, "replace", page.items, page.next_cursor, None,
                                       last, numbers, at_end=True))

    @work(thread=True, group="thread-load", exit_on_error=False)
    def _load_start(self, token: int, task: TaskRow) -> None:
        try:
            page = self.source.thread_after(task.id, THREAD_START, self._page_size)
            numbers = self._numbers_for(page.items)
        except Exception as error:  # noqa: BLE001
            self.post_message(self._Failed(token, str(error)))
            return
        first = page.items[0].id if page.items else None
        self.post_message(self._Window(token, "replace", page.items, None, page.next_cursor,
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
            self.post_message(self._Failed(token, str(error)))
            return
        self.post_message(self._Window(token, "replace", items, before.next_cursor,
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
            self.post_message(self._Failed(token, str(error)))
            return
        self.post_message(self._Window(token, mode, page.items, page.next_cursor,
                                       page.next_cursor, None, numbers))

    @work(thread=True, group="thread-one", exit_on_error=False)
    def _load_one(self, token: int, message_id: int, mode: str) -> None:
        try:
            msg = self.source.get_message(message_id)
            numbers = self._numbers_for((msg,))
        except NotFound:
            return
        except Exception as error:  # noqa: BLE001
            self.post_message(self._Failed(token, str(error)))
            return
        self.post_message(self._Window(token, mode, (msg,), None, None, None, numbers))

    def on_thread_view__failed(self, message: _Failed) -> None:
        message.stop()
        if message.token == self._token:
            self._loading = self._loading_older = self._loading_newer = False
            self._error = message.error
            self._relayout()

    def on_thread_view__window(self, message: _Window) -> None:
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

    def _apply_replace(self, message: _Window) -> None:
        if message.task is not None:
            self._open_task = message.task
        self._loading = False
        self._msgs = list(message.items)
        self._older, self._newer = message.older, message.newer
        self._blocks.clear()
        self._relayout()
        index = self._index_of(message.select_id)
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
        self.call_after_refresh(self._maybe_page)

    def _apply_older(self, message: _Window) -> None:
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

    def _apply_newer(self, message: _Window) -> None:
        self._loading_newer = False
        known = {m.id for m in self._msgs}
        self._msgs.extend(m for m in message.items if m.id not in known)
        self._newer = message.newer
        self._relayout()
        self._trim(from_start=True)

    def _apply_added(self, message: _Window) -> None:
        msg = message.items[0]
        if self._open_task is None or msg.task_id != self._open_task.id or self._newer is not None:
            return
        if any(m.id == msg.id for m in self._msgs):
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

    def _apply_changed(self, message: _Window) -> None:
        msg = message.items[0]
        index = self._index_of(msg.id)
        if index is None:
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
        if self._open_task is None or self._loading or not self.is_mounted:
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

    # ---- layout --------------------------------------------------------------------------
    def _index_of(self, message_id: int | None) -> int | None:
        if message_id is None:
            return None
        for i in range(len(self._msgs) - 1, -1, -1):
            if self._msgs[i].id == message_id:
                return i
        return None

    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _width(self) -> int:
        return max(10, self.scrollable_content_region.width)

    def _thread_styles(self) -> ThreadStyles:
        if self._styles is None:
            values: dict[str, Style] = {"base": self.rich_style}
            for attr, name in _STYLE_NAMES.items():
                values[attr] = self.get_component_rich_style(name, partial=attr in _PARTIAL)
            self._styles = ThreadStyles(**values)
        return self._styles

    def _render_context(self) -> RenderContext:
        contact = self._open_task.contact_name if self._open_task is not None else ""
        return RenderContext(console=self.app.console, width=self._width(),
                             styles=self._thread_styles(), contact_name=contact,
                             today=datetime.now().astimezone().date(),
                             moved_numbers=self._numbers)

    def _day_separator(self, index: int) -> bool:
        if index == 0:
            return True
        return local(self._msgs[index].created_at).date() != local(
            self._msgs[index - 1].created_at).date()

    def _block(self, index: int, ctx: RenderContext | None = None) -> list[Strip]:
        msg = self._msgs[index]
        sep = self._day_separator(index)
        width = self._width()
        key = (msg.id, self._revs.get(msg.id, 0), width, sep, self._generation)
        block = self._blocks.get(key)
        if block is None:
            block = render_message(msg, ctx or self._render_context(), day_separator=sep)
            self._blocks[key] = block
        return block

    def _relayout(self) -> None:
        """Recompute block heights and running totals; cost follows the window, not the thread."""
        ctx = self._render_context() if self.is_mounted else None
        offsets: list[int] = []
        heights: list[int] = []
        y = HEADER_LINES
        if ctx is not None:
            for i in range(len(self._msgs)):
                h = len(self._block(i, ctx))
                offsets.append(y)
                heights.append(h)
                y += h
        self._offsets, self._heights, self._total = offsets, heights, y
        self._layout_width = self._width()
        self.virtual_size = Size(self._width(), y + (1 if not self._msgs else 0))
        self.refresh()

    def _block_at(self, line: int) -> int | None:
        if not self._offsets or line < HEADER_LINES:
            return None
        index = bisect_right(self._offsets, line) - 1
        return index if 0 <= index < len(self._msgs) else None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted and self._styles is not None:
            self._styles = None
            if self._thread_styles() != getattr(self, "_last_styles", None):
                self._last_styles = self._thread_styles()
                self._generation += 1
                self._blocks.clear()
                self._relayout()

    def _on_resize(self, event: events.Resize) -> None:
        if self._width() != self._layout_width:
            self._blocks.clear()
            self._relayout()
            if self._newer is None and self._sel is not None and self._sel == len(self._msgs) - 1:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def on_mount(self) -> None:
        self._last_styles = self._thread_styles()
        self._relayout()

    def render_line(self, y: int) -> Strip:
        width = self._width()
        if width != self._layout_width and self._msgs:
            self.call_after_refresh(self._relayout)  # heights are per width: lay out again
        line = round(self.scroll_y) + y
        base = self.rich_style
        if line < HEADER_LINES:
            return self._header_line(width, base)
        index = self._block_at(line)
        if index is None:
            if not self._msgs and line == HEADER_LINES:
                return self._note_line(self._empty_text(), "thread-view--empty", width, base)
            return Strip.blank(width, base)
        block = self._block(index)
        sub = line - self._offsets[index]
        if sub >= len(block):
            return Strip.blank(width, base)
        strip = block[sub]
        if index == self._sel:
            cursor = self.get_component_rich_style("thread-view--cursor")
            strip = Strip.join([Strip([Segment("▌", cursor)], 1), strip.crop(1)])
        return strip

    def _empty_text(self) -> str:
        if self._error:
            return _("Could not load the conversation: {error}").format(error=self._error)
        if self._open_task is None:
            return _("No conversation open.")
        if self._loading:
            return _("Loading…")
        return _("No messages yet.")

    def _header_line(self, width: int, base: Style) -> Strip:
        if not self._msgs:
            return Strip.blank(width, base)
        if self._older is None:
            text = _("— Beginning of the conversation —")
        elif self._loading_older:
            text = _("↑ Loading older messages…")
        else:
            text = _("↑ Older messages load as you scroll up")
        return self._note_line(text, "thread-view--header", width, base)

    def _note_line(self, text: str, cls: str, width: int, base: Style) -> Strip:
        content = Text(text, style=self.get_component_rich_style(cls, partial=True))
        content.truncate(max(1, width - 2), overflow="ellipsis")
        left = max(0, (width - content.cell_len) // 2)
        strip = Strip([Segment(" " * left)] + list(content.render(self.app.console)))
        return strip.apply_style(base).adjust_cell_length(width, base)

    # ---- selection and actions -----------------------------------------------------------
    def _set_selection(self, index: int | None, scroll: bool = True) -> None:
        if index is not None:
            index = max(0, min(index, len(self._msgs) - 1)) if self._msgs else None
        changed = index != self._sel
        self._sel = index
        self.refresh()
        self.refresh_bindings()
        if index is None:
            return
        if scroll:
            top, height = self._offsets[index], self._heights[index]
            self.scroll_to_region(Region(0, top, 1, min(height, self._view_height())),
                                  animate=False, immediate=True, force=True)
        if changed:
            self.post_message(self.MessageSelected(self, self._msgs[index]))

    def _first_visible(self) -> int | None:
        return self._block_at(max(HEADER_LINES, round(self.scroll_y)))

    def action_prev_message(self) -> None:
        if not self._msgs:
            return
        if self._sel is None:
            self._set_selection(len(self._msgs) - 1)
        elif self._sel > 0:
            self._set_selection(self._sel - 1)
        else:
            self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self._maybe_page()

    def action_next_message(self) -> None:
        if not self._msgs:
            return
        if self._sel is None:
            self._set_selection(self._first_visible() or 0)
        elif self._sel < len(self._msgs) - 1:
            self._set_selection(self._sel + 1)
        self._maybe_page()

    def action_top(self) -> None:
        """The thread's first message (loads the thread's start if it is not in the window)."""
        if self._open_task is None:
            return
        if self._older is None:
            self._set_selection(0 if self._msgs else None, scroll=False)
            self.scroll_to(y=0, animate=False, immediate=True, force=True)
            return
        self._token += 1
        self._loading = True
        self._load_start(self._token, self._open_task)

    def action_bottom(self) -> None:
        """The thread's newest message (loads the end if it is not in the window)."""
        if self._open_task is None:
            return
        if self._newer is None:
            self._set_selection(len(self._msgs) - 1 if self._msgs else None, scroll=False)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
            return
        self._token += 1
        self._loading = True
        self._load_end(self._token, self._open_task)

    def _page(self, direction: int) -> None:
        if not self._msgs:
            return
        page = max(1, self._view_height() - 2)
        y = max(0, min(round(self.scroll_y) + direction * page, self.max_scroll_y))
        self.scroll_to(y=y, animate=False, immediate=True, force=True)
        line = y + (self._view_height() - 1 if direction > 0 else 0)
        index = self._block_at(max(HEADER_LINES, min(line, self._total - 1)))
        if index is not None:
            self._set_selection(index, scroll=False)
        self._maybe_page()

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            msg = self.selected_message
            ok = msg is not None and msg.kind == OUTBOUND and msg.delivery_state == FAILED
            return True if ok else None
        return True

    def action_retry(self) -> None:
        msg = self.selected_message
        if msg is not None and msg.kind == OUTBOUND and msg.delivery_state == FAILED:
            self.post_message(self.RetryRequested(self, msg))

    def on_click(self, event: events.Click) -> None:
        index = self._block_at(round(self.scroll_y) + event.y)
        if index is not None:
            self._set_selection(index, scroll=False)
