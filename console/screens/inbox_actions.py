"""The inbox's actions: filters, mass actions, dialogs, the contact card toggle.

A mixin of :class:`console.screens.inbox.InboxScreen`, kept apart so that neither
module grows past a screenful of concerns. ``check_action`` greys out what cannot be
done now (merging needs two marked tasks, taking over needs an open task that is not
already yours), which the footer and the command palette both show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.filters import (
    ALL,
    MINE,
    UNASSIGNED,
    FilterChoice,
    next_channel,
    next_status,
)
from console.screens.assign import AssignChoice, AssignDialog
from console.screens.merge_contacts import ContactMerge, MergeContactsDialog
from console.screens.merge_tasks import MergeTasksDialog
from console.screens.status import StatusDialog
from storage.i18n import _, ngettext
from storage.ops_tasks import STATUS_LABELS
from storage.rows import TaskRow
from widgets.contact_card import ContactCardView
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from console.screens.inbox import InboxScreen

    _Base = InboxScreen
else:
    _Base = object

Command = tuple[str, str, Callable[[], Any]]


class InboxActions(_Base):
    # ---- filters ---------------------------------------------------------------------------
    def set_choice(self, choice: FilterChoice) -> None:
        self.choice = choice
        self.query_one(TaskList).set_filter(choice.task_filter(self.me.id))
        self._update_filter_bar()

    def action_filter(self, mode: str) -> None:
        if mode in (MINE, UNASSIGNED, ALL):
            self.set_choice(FilterChoice(mode))

    def action_filter_channel(self) -> None:
        if not self.channels:
            self.notify(_("No channels are configured."), severity="warning")
            return
        self.set_choice(next_channel(self.choice, self.channels))

    def action_filter_status(self) -> None:
        self.set_choice(next_status(self.choice))

    # ---- targets of mass actions -------------------------------------------------------------
    def mass_targets(self) -> list[int]:
        """The marked tasks, or the highlighted one when nothing is marked."""
        if self.marks:
            return sorted(self.marks)
        task = self.query_one(TaskList).highlighted_task
        return [task.id] if task else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        # Hidden (False), not greyed (None), while impossible: the footer is short and
        # must keep room for what can be done now, f1 Help first of all.
        if action == "merge_tasks":
            return True if len(self.marks) >= 2 else False
        if action in ("assign", "status"):
            return True if self.mass_targets() else None
        if action == "take_over":
            current = self.current
            return True if current and current.assignee_id != self.me.id else False
        if action == "toggle_card":
            return True if self.current and self.current.contact_id else None
        return True

    def _done(self, message: str) -> Callable[[object], None]:
        def done(_result: object) -> None:
            self.query_one(TaskList).clear_marks()
            self.notify(message, timeout=4)
        return done

    # ---- assign / status -------------------------------------------------------------------
    def action_assign(self) -> None:
        ids = self.mass_targets()
        if not ids:
            return

        def chosen(choice: AssignChoice | None) -> None:
            if choice is None:
                return
            self.store_call(lambda: self.store.assign(ids, choice.operator_id, self.me.id),
                            self._done(ngettext("{n} task assigned.", "{n} tasks assigned.",
                                                len(ids)).format(n=len(ids))))

        def open_dialog(operators: list[Any]) -> None:
            self.operators = operators
            self.app.push_screen(AssignDialog(operators, len(ids)), chosen)

        self.store_call(self.store.list_operators, open_dialog)

    def action_status(self) -> None:
        ids = self.mass_targets()
        if not ids:
            return
        highlighted = self.query_one(TaskList).highlighted_task
        current = highlighted.status if highlighted and len(ids) == 1 else None

        def chosen(status: str | None) -> None:
            if status is None:
                return
            label = _(STATUS_LABELS[status])
            self.store_call(lambda: self.store.set_status(ids, status, self.me.id),
                            self._done(_("Status set to {status}.").format(status=label)))

        self.app.push_screen(StatusDialog(len(ids), current), chosen)

    # ---- merging ---------------------------------------------------------------------------
    def action_merge_tasks(self) -> None:
        ids = sorted(self.marks)
        if len(ids) < 2:
            self.notify(_("Mark at least two tasks (space) to merge them."), severity="warning")
            return

        def chosen(rows: list[TaskRow], target_id: int | None) -> None:
            if target_id is None:
                return
            sources = [r.id for r in rows if r.id != target_id]

            def merged(task: TaskRow) -> None:
                self._done(_("Merged into task #{number}.").format(number=task.number))(task)
                self.open_task(task)
                self.query_one(TaskList).select_task_id(task.id)

            self.store_call(lambda: self.store.merge_tasks(target_id, sources, self.me.id), merged)

        def loaded(rows: list[TaskRow]) -> None:
            self.app.push_screen(MergeTasksDialog(rows), lambda target: chosen(rows, target))

        self.store_call(lambda: [self.store.get_task(i) for i in ids], loaded)

    def action_merge_contacts(self) -> None:
        def chosen(merge: ContactMerge | None) -> None:
            if merge is None:
                return
            self.store_call(
                lambda: self.store.merge_contacts(merge.survivor.id, merge.loser.id, self.me.id),
                lambda _card: self.notify(_("Contacts merged."), timeout=4))

        self.app.push_screen(MergeContactsDialog(self.store), chosen)

    # ---- single-task actions ---------------------------------------------------------------
    def action_take_over(self) -> None:
        task = self.current
        if task is None:
            return
        self.store_call(lambda: self.store.take_over(task.id, self.me.id),
                        lambda _r: self.notify(_("Task #{number} is yours now.").format(
                            number=task.number), timeout=4))

    def action_toggle_card(self) -> None:
        opening = not self.has_class("-card-open")
        self.set_class(opening, "-card-open")
        card = self.query_one(ContactCardView)
        if opening:
            card.show_contact(self.current.contact_id if self.current else None)
            card.focus()
        elif card.has_focus_within:
            self.query_one(TaskList).focus()

    def action_focus_tasks(self) -> None:
        tasks = self.query_one(TaskList)
        if tasks.has_focus:
            tasks.clear_marks()
        else:
            tasks.focus()

    def retry_selected(self) -> None:
        message = self.query_one(ThreadView).selected_message
        if message is None:
            self.notify(_("Select a failed message in the conversation first."),
                        severity="warning")
            return
        self.retry_message(message.id)

    # ---- the command palette ---------------------------------------------------------------
    def palette_commands(self) -> list[Command]:
        """Every action of this screen as (title, help, callback) for the palette."""
        run = self.run_action
        commands: list[Command] = [
            (_("Filter: my tasks"), _("Show my open tasks"), lambda: run("filter('mine')")),
            (_("Filter: unassigned tasks"), _("Show open tasks nobody has taken"),
             lambda: run("filter('unassigned')")),
            (_("Filter: all tasks"), _("Show every task"), lambda: run("filter('all')")),
        ]
        for channel in self.channels:
            commands.append((_("Filter: channel {name}").format(name=channel.name),
                             _("Show this channel's tasks"),
                             lambda c=channel: self.set_choice(FilterChoice("channel", channel=c))))
        for status, label in STATUS_LABELS.items():
            commands.append((_("Filter: status {status}").format(status=_(label)),
                             _("Show tasks in this status"),
                             lambda s=status: self.set_choice(FilterChoice("status", status=s))))
        commands += [
            (_("Merge marked tasks"), _("Merge the marked tasks into one of them"),
             lambda: run("merge_tasks")),
            (_("Assign tasks"), _("Assign the marked tasks or the highlighted one"),
             lambda: run("assign")),
            (_("Change status"), _("Set the status of the marked tasks or the highlighted one"),
             lambda: run("status")),
            (_("Merge contacts"), _("Find two contacts and merge them"),
             lambda: run("merge_contacts")),
            (_("Take the open task"), _("Make the open task yours"), lambda: run("take_over")),
            (_("Toggle the contact card"), _("Show or hide the contact card"),
             lambda: run("toggle_card")),
            (_("Toggle reply / private note"), _("Switch the composer's mode"),
             lambda: self.query_one("#composer").action_toggle_note()),
            (_("Send the composer's text"), _("Send the reply or save the note"),
             lambda: self.query_one("#composer").action_send()),
            (_("Retry the selected failed message"), _("Queue a failed message again"),
             self.retry_selected),
            (_("Focus the task list"), _("Move the keyboard focus to the task list"),
             lambda: self.query_one(TaskList).focus()),
            (_("Focus the conversation"), _("Move the keyboard focus to the conversation"),
             lambda: self.query_one(ThreadView).focus()),
            (_("Focus the composer"), _("Move the keyboard focus to the composer"),
             lambda: self.query_one("#composer").focus()),
        ]
        return commands
