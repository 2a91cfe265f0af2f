"""Keyboard and mouse navigation of the task list: the cursor, marks and opening.

A mixin of :class:`widgets.task_list.TaskList`, apart so that the widget module keeps
to its public API and drawing. The cursor is an index into the loaded rows; moving it
scrolls the row into view (keeping the top on a row boundary), posts
``TaskList.Highlighted`` and asks for the next page when the end of what is loaded
comes near. Enter posts ``TaskList.Selected``; space toggles a mark.

A move repaints only the two rows it changes (the one left and the one reached), so a
key press costs the same whatever the number of rows on screen; only a move that
scrolls repaints the view (the scroll does).
"""

from __future__ import annotations

from typing import Any

from textual import events

from widgets.task_list_loader import ROW_HEIGHT, TaskListState
from widgets.typeahead import held, hold_keys


class TaskListNavigation(TaskListState):
    """The cursor and the actions bound to keys (see the module docstring)."""

    Highlighted: Any
    Selected: Any
    MarksChanged: Any

    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _move_cursor(self, pos: int, scroll: bool = True) -> None:
        items = self._rows.items
        if not items:
            return
        pos = max(0, min(pos, len(items) - 1))
        changed = pos != self._cursor or items[pos].id != self._highlighted_id
        self._refresh_rows(self._cursor, pos)
        self._cursor = pos
        self._highlighted_id = items[pos].id
        if scroll:
            self._scroll_to_row(pos)
        if changed:
            self.post_message(self.Highlighted(self, items[pos]))
        self._maybe_load_more()

    def _scroll_to_row(self, pos: int) -> None:
        """Scroll just enough to show row ``pos``, keeping the top on a row boundary.

        With an odd view height a plain "scroll to region" left half a row (its second
        line only: a preview without its name) at the top; this shows the next row's
        first line at the bottom instead."""
        top, height = round(self.scroll_y), self._view_height()
        row_top = pos * ROW_HEIGHT
        if row_top < top or height < ROW_HEIGHT:
            y = row_top
        elif row_top + ROW_HEIGHT > top + height:
            y = -(-(row_top + ROW_HEIGHT - height) // ROW_HEIGHT) * ROW_HEIGHT
        else:
            return
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

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
            self._refresh_tasks(self._selected_id, task.id)
            self._selected_id = task.id
            hold_keys(self)  # type: ignore[arg-type]  # the screen moves the focus on Selected
            self.post_message(self.Selected(self, task))

    def moves_focus(self, key: events.Key, binding_id: str | None) -> bool:
        """Enter (``tasks.open``) on a task: the screen opens it and focuses the composer."""
        return binding_id == "tasks.open" and self.highlighted_task is not None

    def on_key(self, event: events.Key) -> None:
        """Keys queued here after Enter belong where the focus goes next."""
        held(self, event)  # type: ignore[arg-type]

    def action_mark(self) -> None:
        task = self.highlighted_task
        if task is None:
            return
        if task.id in self._marked:
            self._marked.discard(task.id)
        else:
            self._marked.add(task.id)
        self._refresh_rows(self._cursor)
        self.post_message(self.MarksChanged(self, frozenset(self._marked)))

    def on_click(self, event: events.Click) -> None:
        pos = (round(self.scroll_y) + event.y) // ROW_HEIGHT
        if 0 <= pos < len(self._rows.items):
            self._move_cursor(pos, scroll=False)
            if event.chain > 1:
                self.action_open()
