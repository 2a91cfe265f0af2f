"""How the conversation pane lays its window out: block heights, running totals, styles.

A mixin of :class:`widgets.thread_view.ThreadView`, apart so that the widget module
keeps to its public API and drawing. Each message is rendered once per (message id,
revision, width, day separator, generation) into a block of strips kept in an LRU
cache; the blocks' heights become running totals (``_offsets``) so that a line is
found with ``bisect``. The generation is bumped when the theme's styles change, and the
blocks are laid out again when the width changes. The cost follows the window, never
the whole thread.
"""

from __future__ import annotations

from bisect import bisect_right

from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from widgets import scroll_indicator
from widgets.strips import part_style, separate_strip_blanks
from widgets.thread_render import RenderContext, ThreadStyles, local, render_message
from widgets.thread_window import HEADER_LINES, ThreadState

# ThreadStyles field -> component class; the PARTIAL_STYLES ones sit on the block's own
# background (see ``strips.part_style``), the others carry their background.
STYLE_NAMES = {
    "inbound": "thread-view--inbound", "outbound": "thread-view--outbound",
    "note": "thread-view--note", "note_mark": "thread-view--note-mark",
    "event": "thread-view--event", "day": "thread-view--day",
    "author": "thread-view--author", "meta": "thread-view--meta",
    "delivery": "thread-view--delivery", "read": "thread-view--read",
    "failed": "thread-view--failed", "attachment": "thread-view--attachment",
    "truncated": "thread-view--truncated", "cursor": "thread-view--cursor",
}
PARTIAL_STYLES = {"note_mark", "event", "day", "author", "meta", "delivery", "read", "failed",
            "attachment", "truncated"}


class ThreadLayout(ThreadState):
    """Heights, offsets and the block cache for ThreadView (see the module docstring)."""

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
        """Columns for the messages: the view's, less the scroll indicator's."""
        return max(10, self.scrollable_content_region.width - scroll_indicator.WIDTH)

    def _on_indicator(self, x: int) -> bool:
        """Whether column ``x`` (of the view) is the scroll indicator's."""
        return x >= self.size.width - scroll_indicator.WIDTH

    def _thread_styles(self) -> ThreadStyles:
        if self._styles is None:
            values: dict[str, Style] = {"base": self.rich_style}
            for attr, name in STYLE_NAMES.items():
                values[attr] = (part_style(self, name) if attr in PARTIAL_STYLES
                                else self.get_component_rich_style(name))
            self._styles = ThreadStyles(**values)
        return self._styles

    def _render_context(self) -> RenderContext:
        contact = self._open_task.contact_name if self._open_task is not None else ""
        return RenderContext(console=self.app.console, width=self._width(),
                             styles=self._thread_styles(), contact_name=contact,
                             today=local(self.clock(), self.tz).date(),
                             moved_numbers=self._numbers, tz=self.tz)

    def _day_separator(self, index: int) -> bool:
        if index == 0:
            return True
        return local(self._msgs[index].created_at, self.tz).date() != local(
            self._msgs[index - 1].created_at, self.tz).date()

    def _block(self, index: int, ctx: RenderContext | None = None) -> list[Strip]:
        msg = self._msgs[index]
        sep = self._day_separator(index)
        width = self._width()
        key = (msg.id, self._revs.get(msg.id, 0), width, sep, self._generation)
        block = self._blocks.get(key)
        if block is None:
            block = render_message(msg, ctx or self._render_context(), day_separator=sep)
            block = [separate_strip_blanks(strip) for strip in block]  # see widgets.strips
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
        self._set_virtual_size(Size(self._width(), y + (1 if not self._msgs else 0)))
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """The content's size; the screen is laid out again only if the pane's height
        follows its content. Otherwise (a ``1fr`` pane) new content needs a repaint of
        this view alone: a layout re-rendered every other pane's scrollbar on each
        thread open (``bench/PROFILE.md`` §9)."""
        height = self.styles.height
        if height is None or height.is_auto:
            self.virtual_size = size
        elif size != self.virtual_size:
            self.set_reactive(Widget.virtual_size, size)
            if self.scroll_y > self.max_scroll_y:  # the content shrank under the view:
                # clamp it, as Textual's layout did, without paging from a position the
                # caller is about to replace (it places the view, then pages).
                placing, self._placing = self._placing, True
                try:
                    self.scroll_y = self.max_scroll_y
                finally:
                    self._placing = placing

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

