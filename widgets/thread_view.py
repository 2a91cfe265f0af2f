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

Opening is one frame of work (``bench/PROFILE.md`` §9): the old window is forgotten at
once but not painted empty; the first frame is laid out from the newest messages that
fill the view and the rest of the page joins after it; new content repaints this view
only (its height is set by the layout, so the screen is not laid out again); and the
scroll position is a one-column indicator drawn in the lines
(:mod:`widgets.scroll_indicator`), not Textual's ScrollBar widget.

This module declares the widget, its public API and how it draws a line; loading is in
:mod:`widgets.thread_window`, layout in :mod:`widgets.thread_layout`, the message
cursor and keys in :mod:`widgets.thread_keys`, what a message looks like in
:mod:`widgets.thread_render`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from storage.i18n import _
from storage.rows import MessageRow, Page, TaskRow
from widgets import scroll_indicator
from widgets.strips import part_style, separate_strip_blanks
from widgets.thread_keys import ThreadNavigation
from widgets.thread_layout import STYLE_NAMES, ThreadLayout
from widgets.thread_render import ThreadStyles
from widgets.thread_window import HEADER_LINES, Cursor, ThreadWindow

__all__ = ["LOADING_SHOWN_AFTER", "MAX_WINDOW", "PAGE_SIZE", "ThreadSource", "ThreadView"]

PAGE_SIZE = 100
MAX_WINDOW = 400
LOADING_SHOWN_AFTER = 0.15  # seconds an opening thread may take before "Loading…" shows


class ThreadSource(Protocol):
    """What the view reads from (the Store satisfies it)."""

    def thread_before(self, task_id: int, before: Cursor | None = None,
                      limit: int = 100) -> Page[MessageRow]: ...

    def thread_after(self, task_id: int, after: Cursor, limit: int = 100) -> Page[MessageRow]: ...

    def thread_around(self, task_id: int, message_id: int,
                      limit: int = 100) -> tuple[Page[MessageRow], Page[MessageRow]]: ...

    def get_message(self, message_id: int) -> MessageRow: ...

    def get_task(self, task_id: int) -> TaskRow: ...


class _AboutMessage(Message):
    """A message from the view about one ``message``; ``control`` is the view."""

    def __init__(self, view: ThreadView, message: MessageRow) -> None:
        super().__init__()
        self.view = view
        self.message = message

    @property
    def control(self) -> ThreadView:
        return self.view


class ThreadView(ThreadNavigation, ThreadWindow, ThreadLayout, ScrollView, can_focus=True):
    """One task's conversation, as the client sees it, with delivery states and notes."""

    KEYMAP_GROUP = "thread"  # its keys in the reference (console.keymap)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k,up", "prev_message", _("Previous message"), id="thread.prev_message", show=False),
        Binding("j,down", "next_message", _("Next message"), id="thread.next_message", show=False),
        Binding("home", "top", _("First message"), id="thread.top", show=False),
        Binding("end", "bottom", _("Last message"), id="thread.bottom", show=False),
        Binding("pageup", "page_up", _("Page up"), id="thread.page_up", show=False),
        Binding("pagedown", "page_down", _("Page down"), id="thread.page_down", show=False),
        Binding("r", "retry", _("Retry sending"), id="thread.retry"),
        Binding("q", "quote", _("Quote"), id="thread.quote",
                tooltip=_("Reply quoting the selected client message.")),
        Binding("v", "versions", _("Versions"), id="thread.versions", show=False,
                tooltip=_("Show the earlier versions of the selected edited message.")),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STYLE_NAMES.values()) | {
        "thread-view--header", "thread-view--empty", "thread-view--scroll-track",
        "thread-view--scroll-thumb"}

    DEFAULT_CSS = """
    ThreadView {
        background: $background;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: hidden;  /* scrolls; the indicator is drawn in the lines (see below) */
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
        & > .thread-view--scroll-track { background: $scrollbar-background; }
        & > .thread-view--scroll-thumb { background: $scrollbar; }
    }
    """

    class MessageSelected(_AboutMessage):
        """The keyboard cursor moved to ``message``."""

    class RetryRequested(_AboutMessage):
        """The operator asked to send a failed outbound ``message`` again."""

    class QuoteRequested(_AboutMessage):
        """The operator picked the client's ``message`` to quote in the reply."""

    class VersionsRequested(_AboutMessage):
        """The operator asked for the earlier versions of the edited ``message``."""

    def __init__(self, source: ThreadSource, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False,
                 page_size: int = PAGE_SIZE, max_window: int = MAX_WINDOW,
                 clock: Callable[[], datetime] | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.source = source
        # "Today"/"Yesterday" come from the clock, times and days are shown in ``tz``
        # (None: the machine's local zone). Both injectable: tests pin them (UTC).
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.tz = tz
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
        self._placing = False
        self._loading_newer = False
        self._loading = False
        self._error = ""
        self._revs: dict[int, int] = {}
        self._numbers: dict[int, int] = {}
        self._generation = 0
        self._styles: ThreadStyles | None = None
        self._blocks: LRUCache[tuple[object, ...], list[Strip]] = LRUCache(2048)
        self._layout_width = 0
        self._pending_added: set[int] = set()
        self._held: list[MessageRow] = []  # the first page's head, laid out after its first frame
        self._paint_pending: int | None = None  # the token of a window not drawn yet
        self._shown_token = 0  # the last window whose first frame was handled
        self._thumb_key: tuple[int, int, int, int] | None = None
        self._thumb: scroll_indicator.Thumb | None = None
        self._thumb_cells: tuple[Strip, Strip, Strip] = (Strip.blank(1),) * 3
        self._dragging = False
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

    def show_task(self, task: TaskRow) -> None:
        """Open ``task`` at its newest message (one page, whatever the thread's length).

        The view forgets the previous thread at once (no key acts on its messages any
        more) but does not repaint until the page arrives, which usually takes a frame
        or two: an intermediate empty frame would cost a full repaint (and a layout, when
        the scrollbar goes) for nothing. Only a slow page shows "Loading…", after
        :data:`LOADING_SHOWN_AFTER` seconds."""
        self._reset(task, repaint=False)
        self._loading = True
        token = self._token
        self._load_end(token, task)
        self.set_timer(LOADING_SHOWN_AFTER, lambda: self._show_loading(token))

    def _show_loading(self, token: int) -> None:
        if token == self._token and self._loading:
            self._draw_empty()

    def _draw_empty(self) -> None:
        """Lay out and draw the window as it is now (empty, or its "Loading…" line)."""
        self._relayout()
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

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
        """A message changed in the store: re-fetch it if it is in the window (or in the
        head of the first page, waiting to join it after the first frame)."""
        if self._holds(message_id):
            self._load_one(self._token, message_id, "changed")

    def message_added(self, message_id: int) -> None:
        """A message was stored: show it if the window reaches the end of this thread.

        While the window itself is loading, the id waits: the page's query may have run
        before the message was committed, so it is fetched once the page has landed."""
        if self._open_task is None:
            return
        if self._loading:
            self._pending_added.add(message_id)
        elif self._newer is None:
            self._load_one(self._token, message_id, "added")

    # ---- loading (thread workers in widgets.thread_window; results come back as messages)
    def _reset(self, task: TaskRow | None, repaint: bool = True) -> None:
        self._token += 1
        self._open_task = task
        self._msgs = []
        self._older = self._newer = None
        self._sel = None
        self._loading = self._loading_older = self._loading_newer = False
        self._error = ""
        self._pending_added.clear()
        self._held = []
        self._paint_pending = None
        self._blocks.clear()
        if repaint:
            self._draw_empty()
        else:  # nothing is drawn from the old window, whatever repaints meanwhile
            self._offsets, self._heights, self._total = [], [], HEADER_LINES

    def on_mount(self) -> None:
        self._last_styles = self._thread_styles()
        self._relayout()

    # ---- drawing -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        """The line's content, then the scroll indicator's cell (:mod:`widgets.scroll_indicator`:
        Textual's ScrollBar widget cost a relayout and several renders per frame)."""
        if self._paint_pending is not None:  # this frame draws a new window
            token, self._paint_pending = self._paint_pending, None
            self.call_later(self._first_frame_shown, token)
        return Strip.join([self._content_line(y), self._indicator_cell(y)])

    def _indicator_cell(self, y: int) -> Strip:
        height, total, top = self._view_height(), self.virtual_size.height, round(self.scroll_y)
        key = (height, total, top, self._generation)
        if key != self._thumb_key:  # once a frame: every line of a frame shares it
            self._thumb_key, self._thumb = key, scroll_indicator.thumb(height, total, top)
            cell = " " * scroll_indicator.WIDTH
            self._thumb_cells = (
                Strip([Segment(cell, self.get_component_rich_style("thread-view--scroll-track"))]),
                Strip([Segment(cell, self.get_component_rich_style("thread-view--scroll-thumb"))]),
                Strip.blank(scroll_indicator.WIDTH, self.rich_style))
        if self._thumb is None:
            return self._thumb_cells[2]
        return self._thumb_cells[1 if self._thumb.covers(y) else 0]

    @property
    def allow_vertical_scroll(self) -> bool:
        """The mouse wheel scrolls whenever there is more than a screenful (Textual asks
        whether its scrollbar is shown, and this view draws its own)."""
        return not self._check_disabled() and self.max_scroll_y > 0

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._on_indicator(event.x) and self.max_scroll_y > 0:
            self._dragging = True
            self.capture_mouse()
            self._drag_to(event.y)
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self._drag_to(event.y)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            event.stop()

    def _drag_to(self, row: int) -> None:
        top = scroll_indicator.offset_at(row, self._view_height(), self.virtual_size.height)
        self.scroll_to(y=top, animate=False, immediate=True, force=True)

    def _content_line(self, y: int) -> Strip:
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
        content = Text(text, style=part_style(self, cls))
        content.truncate(max(1, width - 2), overflow="ellipsis")
        left = max(0, (width - content.cell_len) // 2)
        strip = Strip([Segment(" " * left)] + list(content.render(self.app.console)))
        return separate_strip_blanks(strip.apply_style(base).adjust_cell_length(width, base))
