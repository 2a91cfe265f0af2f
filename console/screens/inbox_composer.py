"""The inbox's composer side (issues 16–19): the editor, scheduled send, files, templates,
quote-reply, presence while typing; and the task's snooze, rule explanations,
notifications and attachments.

A mixin of :class:`console.screens.inbox.InboxScreen` (its bindings are declared there,
with ids ``composer.*`` on the composer and ``inbox.snooze``, ``inbox.scheduled``,
``inbox.rules``, ``inbox.notifications``, ``inbox.open_file``, ``inbox.save_file`` on the
screen). Every store call runs in the screen's thread worker (``store_call``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SuspendNotSupported

from console.editor import EditorError, edit_text
from console.opener import OpenerError, open_attachment, save_attachment
from console.presence_wiring import announcer
from console.screens.dialog import task_named
from console.time_input import app_zone, when_text
from storage.channel_policy import WRITE_FIRST_TEMPLATE
from storage.constants import INBOUND
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rows import AttachmentRow, MessageRow, TaskRow
from widgets.composer import Composer
from widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen
    from console.screens.schedule import Snooze

    _Base = InboxScreen
else:
    _Base = object


def channel_templates(config: Any, channel_name: str) -> list[str]:
    """The approved template names configured for the channel ``channel_name``."""
    for channel in getattr(config, "channels", None) or ():
        if getattr(channel, "name", None) == channel_name:
            options = getattr(channel, "options", None) or {}
            return [str(t) for t in options.get("templates") or ()]
    return []


class InboxComposer(_Base):
    # ---- composer requests -------------------------------------------------------------------
    # (A mixin's handlers go by name: ``@on`` only registers on message-pump classes.)
    def on_composer_requested(self, event: Composer.Requested) -> None:
        composer = event.composer
        if composer.task_id is None or composer.blocked_reason:
            return
        handler = {"editor": self.compose_in_editor, "schedule": self.schedule_reply,
                   "attach": self.attach_file, "templates": self.pick_template}.get(event.what)
        if handler is not None:
            handler(composer)

    def on_composer_typing(self, event: Composer.Typing) -> None:
        presence = announcer(self.app)
        if presence is not None:
            presence.typing(event.task_id)

    def on_composer_bound(self, event: Composer.Bound) -> None:
        """Say before the operator types when only a template can go out."""
        task = self.current
        if task is None or task.id != event.task_id:
            return
        event.composer.set_notice(self.template_notice(task))

    def template_notice(self, task: TaskRow, now: datetime | None = None) -> str:
        if not task.channel_kind:
            return ""
        policy = self.store.policy(task.channel_kind)
        if policy.write_first != WRITE_FIRST_TEMPLATE or policy.window is None:
            return ""
        last = task.last_client_message_at
        if last is not None and (now or datetime.now(UTC)) - last <= policy.window:
            return ""
        key = self.keys.get("composer.templates", "f9")
        return _("Window closed: only a template can be sent ({key} Templates)").format(key=key)

    def compose_in_editor(self, composer: Composer) -> None:
        task_id, text = composer.task_id, composer.text

        def back(edited: str) -> None:
            if composer.task_id == task_id:
                composer.set_text(edited)  # its Changed keeps it as the draft
            composer.focus()

        try:
            with self.app.suspend():
                edited = edit_text(text)
        except SuspendNotSupported:  # no terminal to hand over (headless): run it aside
            self.store_call(lambda: self._edit_aside(text), back)
            return
        except EditorError as err:
            self.show_error(str(err))
            return
        back(edited)

    def _edit_aside(self, text: str) -> str:
        try:
            return edit_text(text)
        except EditorError as err:
            self.app.call_from_thread(self.show_error, str(err))
            return text

    def schedule_reply(self, composer: Composer) -> None:
        if composer.private:
            self.notify(_("A private note cannot be scheduled."), severity="warning")
            return
        task_id = composer.task_id

        def chosen(at: datetime | None) -> None:
            composer.focus()
            if at is not None and composer.task_id == task_id:
                composer.submit_at(at)

        from console.screens.schedule import schedule_dialog  # dialogs: imported when opened

        self.app.push_screen(schedule_dialog(), chosen)

    def attach_file(self, composer: Composer) -> None:
        from console.screens.file_prompt import FilePromptDialog, attachment_for

        task_id = composer.task_id

        def chosen(path: Path | None) -> None:
            composer.focus()
            if path is not None and composer.task_id == task_id:
                composer.set_attachment(attachment_for(path))

        self.app.push_screen(FilePromptDialog(_("Send a file"), _("The file to send with the "
                                                                  "reply:")), chosen)

    def pick_template(self, composer: Composer) -> None:
        task = self.current
        if task is None or task.id != composer.task_id:
            return
        names = channel_templates(getattr(self.app, "config", None), task.channel_name)
        reason = self.template_notice(task) or _("Send an approved template message.")

        def chosen(name: str | None) -> None:
            composer.focus()
            if name and composer.task_id == task.id:
                composer.submit_template(name)

        from console.screens.templates import TemplatesDialog

        self.app.push_screen(TemplatesDialog(names, reason), chosen)

    def on_thread_view_quote_requested(self, event: ThreadView.QuoteRequested) -> None:
        self.quote_in_composer(event.message)

    def quote_in_composer(self, message: MessageRow) -> None:
        """The thread picked a client message: the reply will quote it."""
        composer = self.query_one(Composer)
        if message.kind != INBOUND or message.task_id != composer.task_id:
            self.notify(_("Only a client's message in this task can be quoted."),
                        severity="warning")
            return
        composer.set_quote(message.id, message.text)
        composer.focus()

    # ---- snooze --------------------------------------------------------------------------------
    def action_snooze(self) -> None:
        task = self.current
        if task is None:
            return

        def chosen(snooze: Snooze | None) -> None:
            if snooze is None:
                return
            if snooze.until is not None:
                note = _("Task {task} snoozed until {time}.").format(
                    task=task_named(task), time=when_text(snooze.until, app_zone(self.app)))
            else:
                note = _("Task {task} snoozed until the client writes.").format(
                    task=task_named(task))
            self.store_call(lambda: self.store.snooze([task.id], snooze.until,
                                                      snooze.until_client_writes, self.me.id),
                            lambda _r: self.notify(note, timeout=4, markup=False))

        from console.screens.schedule import SnoozeDialog

        self.app.push_screen(SnoozeDialog(), chosen)

    # ---- scheduled replies ---------------------------------------------------------------------
    def action_scheduled(self) -> None:
        from console.screens.scheduled_list import ScheduledListDialog

        def cancel(row: MessageRow, done: Any) -> None:
            self.store_call(lambda: self.store.cancel_scheduled(row.id, self.me.id),
                            lambda _r: done())

        def chosen(task_id: int | None) -> None:
            if task_id is not None:
                self.open_task_id(task_id)

        self.store_call(self.store.scheduled_replies,
                        lambda rows: self.app.push_screen(ScheduledListDialog(rows, cancel),
                                                          chosen))

    # ---- rules and notifications ---------------------------------------------------------------
    def action_rules(self) -> None:
        task = self.current
        if task is None:
            return
        from console.screens.rule_explain import RuleExplainDialog, console_ruleset, rule_report

        config = getattr(self.app, "config", None)
        title = _("Rules for task {task}").format(task=task_named(task))
        self.store_call(lambda: rule_report(self.store, task.id, console_ruleset(config)),
                        lambda lines: self.app.push_screen(RuleExplainDialog(title, lines)))

    def action_notifications(self) -> None:
        from console.screens.notifications import NotificationsDialog
        from storage.rules import mark_notifications_seen, notifications_for  # not at start

        def loaded(rows: list[Any]) -> None:
            ids = [n.id for n in rows]

            def closed(task_id: int | None) -> None:
                if ids:
                    self.store_call(lambda: mark_notifications_seen(self.store, ids))
                if task_id is not None:
                    self.open_task_id(task_id)

            self.app.push_screen(NotificationsDialog(rows), closed)

        self.store_call(lambda: notifications_for(self.store, self.me.id), loaded)

    # ---- attachments of the highlighted message ------------------------------------------------
    def _selected_attachment(self) -> AttachmentRow | None:
        message = self.query_one(ThreadView).selected_message
        if message is None or not message.attachments:
            self.notify(_("Select a message with a file in the conversation first."),
                        severity="warning")
            return None
        return message.attachments[0]

    def action_open_file(self) -> None:
        attachment = self._selected_attachment()
        if attachment is None:
            return

        def run() -> None:
            try:
                process = open_attachment(attachment)
            except OpenerError as err:
                self.app.call_from_thread(self.show_error, str(err))
                return
            process.wait()  # reaped here, in the worker: the console never waits on it

        self.store_call(run)
        self.notify(_("Opening {name}…").format(name=attachment.name), timeout=3, markup=False)

    def action_save_file(self) -> None:
        from console.screens.file_prompt import FilePromptDialog

        attachment = self._selected_attachment()
        if attachment is None:
            return

        def chosen(path: Path | None) -> None:
            if path is None:
                return

            def save() -> Path:
                try:
                    return save_attachment(attachment, path)
                except OpenerError as err:
                    raise SwitchboardError(str(err)) from None

            self.store_call(save, lambda saved: self.notify(
                _("Saved as {path}.").format(path=str(saved)), timeout=4, markup=False))

        self.app.push_screen(FilePromptDialog(_("Save the file"), _("Save {name} as (a file "
                                                                    "or a folder):").format(
                                                  name=attachment.name),
                                              str(Path.home()) + "/", must_exist=False), chosen)

    # ---- the command palette -------------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        run = self.run_action

        def composer_request(what: str) -> Callable[[], Any]:
            return lambda: self.query_one(Composer).action_request(what)

        return [*super().palette_commands(),
                (_("Write in the editor"), _("Edit the draft in $VISUAL or $EDITOR"),
                 composer_request("editor")),
                (_("Send at…"), _("Schedule the reply for a time"), composer_request("schedule")),
                (_("Attach a file"), _("Pick a file to send with the reply"),
                 composer_request("attach")),
                (_("Send a template"), _("Pick an approved template message"),
                 composer_request("templates")),
                (_("Snooze the open task"), _("Hide it until a time or until the client writes"),
                 lambda: run("snooze")),
                (_("Scheduled replies"), _("List scheduled replies; cancel one"),
                 lambda: run("scheduled")),
                (_("Why: rules of the open task"), _("Which rules acted and which would fire now"),
                 lambda: run("rules")),
                (_("Notifications"), _("Notifications addressed to you"),
                 lambda: run("notifications")),
                (_("Open the file of the selected message"), _("With the system's opener"),
                 lambda: run("open_file")),
                (_("Save the file of the selected message"), _("Copy it elsewhere"),
                 lambda: run("save_file"))]
