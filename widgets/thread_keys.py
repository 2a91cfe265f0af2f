"""Keyboard and mouse navigation of the conversation pane: the message cursor.

A mixin of :class:`widgets.thread_view.ThreadView`. The cursor is an index into the
window of loaded messages; moving it scrolls the message into view and posts
``ThreadView.MessageSelected``. ``q`` asks the screen to quote the selected client
message in the reply, ``v`` to show an edited message's earlier versions. ``r``
(``thread.retry``) asks the screen to retry the selected message, and is greyed out (``check_action`` → None) unless that message is
an outbound one whose sending failed. Home and End go to the thread's true start and
end, loading them if the window does not reach them.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.geometry import Region

from storage.constants import FAILED, INBOUND, OUTBOUND
from storage.rows import MessageRow
from widgets.thread_window import HEADER_LINES, ThreadState


class ThreadNavigation(ThreadState):
    """The message cursor and the actions bound to keys (see the module docstring)."""

    scroll_y: float
    max_scroll_y: int
    MessageSelected: Any
    RetryRequested: Any
    QuoteRequested: Any
    VersionsRequested: Any

    @property
    def selected_message(self) -> MessageRow | None:
        if self._sel is None or not (0 <= self._sel < len(self._msgs)):
            return None
        return self._msgs[self._sel]

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
        if action == "quote":
            msg = self.selected_message
            return True if msg is not None and msg.kind == INBOUND else None
        if action == "versions":
            msg = self.selected_message
            return True if msg is not None and (msg.edited or msg.versions) else None
        return True

    def action_quote(self) -> None:
        msg = self.selected_message
        if msg is not None and msg.kind == INBOUND:
            self.post_message(self.QuoteRequested(self, msg))

    def action_versions(self) -> None:
        msg = self.selected_message
        if msg is not None and (msg.edited or msg.versions):
            self.post_message(self.VersionsRequested(self, msg))

    def action_retry(self) -> None:
        msg = self.selected_message
        if msg is not None and msg.kind == OUTBOUND and msg.delivery_state == FAILED:
            self.post_message(self.RetryRequested(self, msg))

    def on_click(self, event: events.Click) -> None:
        if self._on_indicator(event.x):  # the scroll indicator's column: it scrolls
            return
        index = self._block_at(round(self.scroll_y) + event.y)
        if index is not None:
            self._set_selection(index, scroll=False)
