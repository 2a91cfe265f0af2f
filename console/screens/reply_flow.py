"""Sending what the composer holds: to the task it was written for, after the
ownership notice, refused in the composer when the channel cannot take it.

* The task is the one the composer was bound to when the text was written
  (``Composer.Submitted.task_id``), never the one the screen shows by then.
* Replying into another operator's task, or a done / completed one, asks first,
  naming the owner or the state (``store.reply_notice``); once per task opening.
* A reply over the channel's limit that may not be split, or outside its reply
  window, is refused by the store (``TooLong``, ``WindowClosed``): the reason is shown
  in the composer and the text stays there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.screens.collision_check import check_collision, stop_typing
from console.screens.dialog import task_named
from console.time_input import app_zone, when_text
from storage.i18n import _, ngettext
from storage.rows import TaskRow
from storage.store import Store
from widgets.composer import Composer, Extras
from widgets.safe_text import clean, one_line

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen

TARGET_NAME_MAX = 32  # cells of the client's name in the composer's title


def reply_target(store: Store, task: TaskRow) -> str:
    """Who a reply in ``task`` goes to, as plain text: "Ольга Кузнецова · Telegram"."""
    name = one_line(task.contact_name or _("(no name)"), TARGET_NAME_MAX)
    if task.channel_id is None:
        return name
    channel = store.policy(task.channel_kind).name if task.channel_kind else ""
    return f"{name} · {clean(channel or task.channel_name)}"


class ReplyFlow:
    """The inbox's way from ``Composer.Submitted`` to a stored reply or note."""

    def __init__(self, screen: InboxScreen) -> None:
        self.screen = screen
        self.acknowledged: int | None = None  # the task whose notice was accepted

    def task_opened(self, task_id: int) -> None:
        """A task was opened: its notice (if any) is asked again."""
        if self.acknowledged != task_id:
            self.acknowledged = None

    def submit(self, event: Composer.Submitted) -> None:
        task_id = event.task_id
        if task_id is None:
            return
        composer, text, private, extras = event.composer, event.text, event.private, event.extras
        if private:
            self._send(composer, task_id, text, private, extras)
            return
        if self.acknowledged == task_id:
            check_collision(self.screen, composer, task_id,
                            lambda: self._send(composer, task_id, text, private, extras))
            return
        screen = self.screen

        def noticed(notice: str | None) -> None:
            if not notice:
                check_collision(screen, composer, task_id,
                                lambda: self._send(composer, task_id, text, private, extras))
                return

            def answered(yes: bool | None) -> None:
                if yes:
                    self.acknowledged = task_id
                    check_collision(screen, composer, task_id,
                                    lambda: self._send(composer, task_id, text, private, extras))
                else:
                    composer.focus()

            from console.screens.confirm import ConfirmDialog  # imported when first asked

            screen.app.push_screen(ConfirmDialog(_("Reply anyway?"), notice, _("Send anyway")),
                                   answered)

        screen.store_call(lambda: screen.store.reply_notice(task_id, screen.me.id), noticed)

    def _send(self, composer: Composer, task_id: int, text: str, private: bool,
              extras: Extras | None = None) -> None:
        screen = self.screen
        extras = extras or Extras()

        def send() -> tuple[TaskRow, int]:
            parts = 1 if private else len(screen.store.reply_parts(task_id, text))
            message = screen.store.reply(
                task_id, screen.me.id, text, private=private, attachments=extras.attachments,
                meta=extras.meta, quote_message_id=extras.quote_message_id,
                send_at=extras.send_at)
            return screen.store.get_task(message.task_id), parts

        def sent(result: tuple[TaskRow, int]) -> None:
            task, parts = result
            if composer.task_id == task_id and (composer.text == text or extras.meta):
                composer.sent()
                stop_typing(screen.app)
            named = task_named(task)
            if extras.send_at is not None:
                note = _("Reply to task {task} scheduled for {time}.").format(
                    task=named, time=when_text(extras.send_at, app_zone(screen.app)))
            elif private:
                note = _("Private note saved in task {task}.").format(task=named)
            elif parts > 1:
                note = ngettext("Reply to task {task} queued in {n} part.",
                                "Reply to task {task} queued in {n} parts.",
                                parts).format(task=named, n=parts)
            else:
                note = _("Reply to task {task} queued for sending.").format(task=named)
            screen.notify(note, timeout=3)

        def refused(reason: str) -> None:
            if composer.task_id == task_id:
                composer.refuse(reason)
            screen.notify(reason, severity="error", timeout=8)

        screen.store_call(send, sent, refused)

