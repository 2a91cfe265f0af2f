"""Live updates of the inbox: a batch of store events becomes what each widget shows.

The app's events bridge posts :class:`StoreChanged` batches (coalesced; nothing here
polls). :class:`LiveUpdates` tells each widget of the screen what concerns it:

* every task named by an event is re-fetched by the task list (which re-sorts it);
* a message stored or edited in the open task is added to or redrawn in the thread;
  a merge into or out of the open task shows its conversation again;
* the open task's row is read again (header, data quote, composer, keys);
* the contact card, when open, reloads after a contact changed or merged, or the open
  task changed; a contact merge reloads the list (names and tasks moved).

The triage reactions (read marks, notices, send-and-next) stay with the screen
(:mod:`console.screens.inbox_triage`); this object only mirrors the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.events_bridge import StoreChanged
from storage import events as ev
from storage.rows import TaskRow
from widgets.contact_card import ContactCardView
from widgets.task_data import TaskDataQuote
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen


class LiveUpdates:
    """The inbox's widgets kept equal to the store (see the module doc)."""

    def __init__(self, screen: InboxScreen) -> None:
        self.screen = screen

    def apply(self, message: StoreChanged) -> None:
        screen = self.screen
        tasks = screen.query_one(TaskList)
        thread = screen.query_one(ThreadView)
        current = screen.current
        changed: set[int] = set()
        reload_thread = False
        card_stale = False
        for event in message.events:
            if event.task_id is not None:
                changed.add(event.task_id)
            if event.kind == ev.TASK_MERGED:
                sources = set(event.data.get("sources") or ())
                changed |= sources
                if current and (event.task_id == current.id or current.id in sources):
                    reload_thread = True
            if event.kind in (ev.CONTACT_MERGED, ev.CONTACT_UPDATED, ev.TASK_CREATED):
                card_stale = True
            if current is None or event.task_id != current.id or event.message_id is None:
                continue
            if event.kind == ev.MESSAGE_STORED:
                thread.message_added(event.message_id)
            elif event.kind == ev.MESSAGE_UPDATED:
                thread.message_changed(event.message_id)
        for task_id in changed:
            tasks.task_changed(task_id)
        if current is not None and current.id in changed:
            self.refresh_current(current.id, reload_thread)
            card_stale = True
        if card_stale and screen.has_class("-card-open"):
            screen.query_one(ContactCardView).reload()
        if ev.CONTACT_MERGED in message.kinds():  # names and tasks moved: show them again
            tasks.reload()

    def refresh_current(self, task_id: int, reload_thread: bool) -> None:
        """Read the open task again and show it (unless another task was opened since)."""
        screen = self.screen

        def refreshed(task: TaskRow) -> None:
            if screen.current is None or screen.current.id != task.id:
                return
            screen.current = task
            if reload_thread:
                screen.query_one(ThreadView).show_task(task)
            screen.query_one(TaskDataQuote).show(task)
            screen.show_header(task)
            screen._update_composer()
            screen.refresh_bindings()

        screen.store_call(lambda: screen.store.get_task(task_id), refreshed, lambda _e: None)
