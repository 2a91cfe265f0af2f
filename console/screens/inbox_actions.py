"""The inbox's actions: filters, mass actions, dialogs, the contact card toggle.

A mixin of :class:`console.screens.inbox.InboxScreen`, kept apart so that neither
module grows past a screenful of concerns. ``check_action`` greys out what cannot be
done now (merging needs two marked tasks, taking over needs an open task that is not
already yours), which the footer and the command palette both show.

Actions act on what the operator sees: the marked tasks when there are marks (and the
dialog says they are the marked ones), else the open task, else the highlighted row.
Every dialog, confirmation and notice names the task numbers and clients.
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
from console.screens.dialog import task_named, tasks_named
from storage.constants import STATUS_LABELS
from storage.i18n import _
from storage.rows import MergeCheck, OperatorRow, TaskRow
from widgets.contact_card import ContactCardView
from widgets.safe_text import one_line
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from console.screens.assign import AssignChoice
    from console.screens.inbox import InboxScreen
    from console.screens.merge_contacts import ContactMerge

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
        """The marked tasks; else the open task; else the highlighted one."""
        if self.marks:
            return sorted(self.marks)
        if self.current is not None:
            return [self.current.id]
        task = self.query_one(TaskList).highlighted_task
        return [task.id] if task else []

    def with_targets(self, act: Callable[[list[TaskRow], bool], None]) -> None:
        """Call ``act(rows, marked)`` with the rows of :meth:`mass_targets` (read in a worker)."""
        ids, marked = self.mass_targets(), bool(self.marks)
        if ids:
            self.store_call(lambda: [self.store.get_task(i) for i in ids],
                            lambda rows: act(rows, marked))

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
            self.notify(message, timeout=5)
        return done

    # ---- assign / status -------------------------------------------------------------------
    def action_assign(self) -> None:
        def act(rows: list[TaskRow], marked: bool) -> None:
            ids = [r.id for r in rows]

            def chosen(choice: AssignChoice | None) -> None:
                if choice is None:
                    return
                who = next((o.name for o in self.operators if o.id == choice.operator_id), "")
                note = (_("Assigned to {operator}: {tasks}.").format(operator=who,
                                                                    tasks=tasks_named(rows))
                        if choice.operator_id is not None
                        else _("Unassigned: {tasks}.").format(tasks=tasks_named(rows)))
                self.store_call(lambda: self.store.assign(ids, choice.operator_id, self.me.id),
                                self._done(note))

            def open_dialog(operators: list[OperatorRow]) -> None:
                from console.screens.assign import AssignDialog

                self.operators = operators
                self.app.push_screen(AssignDialog(operators, rows, marked), chosen)

            self.store_call(self.store.list_operators, open_dialog)

        self.with_targets(act)

    def action_status(self) -> None:
        def act(rows: list[TaskRow], marked: bool) -> None:
            ids = [r.id for r in rows]

            def chosen(status: str | None) -> None:
                if status is None:
                    return
                note = _("Status set to {status}: {tasks}.").format(
                    status=_(STATUS_LABELS[status]), tasks=tasks_named(rows))
                self.store_call(lambda: self.store.set_status(ids, status, self.me.id),
                                self._done(note))

            from console.screens.status import StatusDialog

            self.app.push_screen(StatusDialog(rows, marked), chosen)

        self.with_targets(act)

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
            named = tasks_named([r for r in rows if r.id != target_id])

            def merge(confirmed: bool) -> None:
                def merged(task: TaskRow) -> None:
                    self._done(_("Merged {sources} into task {target}.").format(
                        sources=named, target=task_named(task)))(task)
                    self.open_task(task)

                self.store_call(lambda: self.store.merge_tasks(
                    target_id, sources, self.me.id, different_clients_ok=confirmed), merged)

            def checked(check: MergeCheck) -> None:
                if not check.different_clients:
                    merge(False)
                    return
                from console.screens.confirm import ConfirmDialog

                self.app.push_screen(
                    ConfirmDialog(_("Merge the tasks of different clients?"), check.description,
                                  _("Merge them")),
                    lambda yes: merge(True) if yes else None)

            self.store_call(lambda: self.store.merge_check(target_id, sources), checked)

        def loaded(rows: list[TaskRow]) -> None:
            from console.screens.merge_tasks import MergeTasksDialog

            self.app.push_screen(MergeTasksDialog(rows), lambda target: chosen(rows, target))

        self.store_call(lambda: [self.store.get_task(i) for i in ids], loaded)

    def action_merge_contacts(self) -> None:
        def chosen(merge: ContactMerge | None) -> None:
            if merge is None:
                return
            self.store_call(
                lambda: self.store.merge_contacts(merge.survivor.id, merge.loser.id, self.me.id),
                lambda _card: self.notify(_("Contacts merged: {loser} into {survivor}.").format(
                    loser=one_line(merge.loser.name or _("(no name)"), 30),
                    survivor=one_line(merge.survivor.name or _("(no name)"), 30)), timeout=4))

        from console.screens.merge_contacts import MergeContactsDialog

        self.app.push_screen(MergeContactsDialog(self.store), chosen)

    # ---- single-task actions ---------------------------------------------------------------
    def action_take_over(self) -> None:
        task = self.current
        if task is None:
            return
        if task.assignee_id is None:  # race-free: exactly one of many takers wins (H8)
            from storage.taking import TakeResult, take

            def taken(result: TakeResult) -> None:
                self.notify(result.message(), severity="information" if result.won else
                            "warning", timeout=6, markup=False)

            self.store_call(lambda: take(self.store, task.id, self.me.id), taken)
            return
        self.store_call(lambda: self.store.take_over(task.id, self.me.id),
                        lambda _r: self.notify(_("Task {task} is yours now.").format(
                            task=task_named(task)), timeout=4))

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
            (_("Assign tasks"), _("Assign the marked tasks, or the open or highlighted one"),
             lambda: run("assign")),
            (_("Change status"), _("Set the status of the marked tasks, or the open or highlighted one"),
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
