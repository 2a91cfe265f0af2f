"""The inbox's operator-day keys: send and open next, done and open next, next unread,
quote a client message, an edited message's versions; and what follows a change: the
open task stays read, the unread count in the window title, a client's message
elsewhere notifies, another operator's presence shows in the list and the header.

A mixin of :class:`console.screens.inbox.InboxScreen`. "Next" is the store's next task
needing an answer in the current filter (``next_task_needing_answer``): its order does
not follow the list's re-sorting, so walking it visits every waiting task once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.events_bridge import StoreChanged
from console.notify import title_sequence
from storage import events as ev
from storage.constants import DONE, INBOUND, OUTBOUND
from storage.i18n import _
from storage.rows import TaskRow
from storage.taking import take
from widgets.composer import Composer
from widgets.task_list import TaskList
from widgets.task_list_render import TYPING_MARK, VIEWING_MARK
from widgets.thread_header import ThreadHeader
from widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen

    _Base = InboxScreen
else:
    _Base = object


class InboxTriage(_Base):
    _advance_after: int | None = None  # send-and-next: the task whose reply we wait for

    # ---- next --------------------------------------------------------------------------
    def triage_filter(self) -> Any:
        return self.choice.task_filter(self.me.id)

    def open_next(self, after_task_id: int | None) -> None:
        """Open the next task needing an answer after ``after_task_id`` (in the filter)."""
        f = self.triage_filter()

        def found(task: TaskRow | None) -> None:
            if task is None:
                self.notify(_("No task is waiting for an answer."), timeout=4)
                self.query_one(TaskList).focus()
                return
            self.open_task(task)
            self.query_one(Composer).focus()

        self.store_call(lambda: self.store.next_task_needing_answer(f, after_task_id), found)

    def action_send_next(self) -> None:
        """Send what the composer holds; once stored, open the next task needing an answer."""
        composer = self.query_one(Composer)
        if composer.task_id is None:
            self.open_next(None)
            return
        if not composer.text.strip():
            self.open_next(composer.task_id)
            return
        self._advance_after = composer.task_id
        composer.action_send()

    def action_done_next(self) -> None:
        """Set the open task done, then open the next task needing an answer."""
        task = self.current
        if task is None:
            self.open_next(None)
            return
        f = self.triage_filter()

        def done_then_next() -> TaskRow | None:
            if task.status != DONE:
                self.store.set_status([task.id], DONE, self.me.id)
            return self.store.next_task_needing_answer(f, task.id)

        def found(next_task: TaskRow | None) -> None:
            if next_task is None:
                self.notify(_("Task #{number} is done. No task is waiting for an answer.")
                            .format(number=task.number), timeout=4)
                self.query_one(TaskList).focus()
                return
            self.open_task(next_task)
            self.query_one(Composer).focus()

        self.store_call(done_then_next, found)

    def action_next_unread(self) -> None:
        """Open the task whose unread client message is the oldest."""
        f = self.triage_filter()

        def found(task: TaskRow | None) -> None:
            if task is None:
                self.notify(_("No unread messages."), timeout=3)
                return
            self.open_task(task)
            self.query_one(Composer).focus()

        self.store_call(lambda: self.store.oldest_unread_task(f), found)

    # ---- the thread's requests ---------------------------------------------------------------
    def quote_requested(self, event: ThreadView.QuoteRequested) -> None:
        composer = self.query_one(Composer)
        if self.current is None or composer.task_id != event.message.task_id:
            return
        composer.set_quote(event.message.id, event.message.text)
        composer.focus()

    def versions_requested(self, event: ThreadView.VersionsRequested) -> None:
        from console.screens.versions import VersionsDialog  # dialogs: imported when opened

        self.app.push_screen(VersionsDialog(event.message))

    # ---- after a change ----------------------------------------------------------------------
    def triage_changed(self, message: StoreChanged) -> None:
        current = self.current
        take_ids: list[int] = []
        for event in message.events:
            if event.kind != ev.MESSAGE_STORED or event.task_id is None:
                continue
            kind = event.data.get("message_kind")
            if kind == INBOUND:
                if current is not None and event.task_id == current.id:
                    self.store_call(lambda t=current.id: self.store.mark_read(t),
                                    failed=lambda _e: None)
                elif event.message_id is not None:
                    self._notify_client_wrote(event.task_id, event.message_id)
            elif kind == OUTBOUND and event.message_id is not None:
                take_ids.append(event.message_id)
                if self._advance_after == event.task_id:
                    self._advance_after = None
                    self.open_next(event.task_id)
        if take_ids and getattr(self.app.config, "reply_takes_unassigned", False):
            self._take_replied(take_ids)
        if message.task_ids:
            self.refresh_unread_title()

    def _take_replied(self, message_ids: list[int]) -> None:
        me = self.me.id

        def take_mine() -> None:
            for message_id in message_ids:
                msg = self.store.get_message(message_id)
                if msg.author_operator_id == me and self.store.get_task(msg.task_id).assignee_id is None:
                    take(self.store, msg.task_id, me)

        self.store_call(take_mine, failed=lambda _e: None)

    def _notify_client_wrote(self, task_id: int, message_id: int) -> None:
        notifier = getattr(self.app, "notifier", None)
        if notifier is None:
            return
        open_id = self.current.id if self.current is not None else None

        def read() -> tuple[TaskRow, str]:
            return self.store.get_task(task_id), self.store.get_message(message_id).text

        self.store_call(read, lambda found: notifier.client_wrote(found[0], found[1], open_id),
                        lambda _e: None)

    def refresh_unread_title(self) -> None:
        f = self.triage_filter()

        def shown(total: int) -> None:
            app = self.app
            app.sub_title = (_("{n} unread").format(n=total) if total else "")
            title = f"{app.title} ({total})" if total else app.title
            write = getattr(app, "write_terminal", None)
            if write is not None:
                write(title_sequence(title))

        self.store_call(lambda: self.store.unread_total(f), shown, lambda _e: None)

    # ---- presence ----------------------------------------------------------------------------
    def presence_changed(self) -> None:
        tracker = getattr(self.app, "presence_tracker", None)
        announcer = getattr(self.app, "presence_announcer", None)
        if tracker is None:
            return
        mine = announcer.session if announcer is not None else None
        marks: dict[int, str] = {}
        others: list[tuple[str, bool]] = []
        for task_id, entries in tracker.by_task().items():
            entries = [e for e in entries if e.session != mine]
            if not entries:
                continue
            marks[task_id] = TYPING_MARK if any(e.typing for e in entries) else VIEWING_MARK
            if self.current is not None and task_id == self.current.id:
                others = [(e.operator_name, e.typing) for e in entries]
        self.query_one(TaskList).presence = marks
        self.query_one(ThreadHeader).set_others(others)

    def show_header(self, task: TaskRow | None) -> None:
        window = self.store.policy(task.channel_kind).window if task and task.channel_kind else None
        self.query_one(ThreadHeader).show(task, window)
        announcer = getattr(self.app, "presence_announcer", None)
        if announcer is not None:
            announcer.view(task.id if task is not None else None)
        self.presence_changed()
