"""The supervisor's view: every thread, a filter by operator, a live summary, read-only
until the supervisor takes a task over.

It is the inbox with three differences: the composer is blocked (with the reason in
its title) on any task that is not the supervisor's own, ``6`` cycles the filter
through the operators, and a summary above the conversation shows open tasks per
operator, who waits for a first reply, and per operator the open tasks, the ones
awaiting a reply, replies today and the median / p90 time to first response
(``storage.team_stats``). The summary reloads on store events (coalesced by the
bridge, one reload at a time), never on a timer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import work
from textual.binding import Binding
from textual.widget import Widget

from console.events_bridge import StoreChanged
from console.filters import ALL, OPERATOR, FilterChoice, next_operator
from console.screens.inbox import InboxScreen
from storage.constants import SUPERVISOR
from storage.i18n import _
from storage.rows import OperatorRow, TaskRow
from storage.store import Store
from storage.team_stats import OperatorStats, team_stats
from widgets.supervisor_summary import SupervisorSummaryView


class SupervisorScreen(InboxScreen):
    KEYMAP_GROUP = "supervisor"  # its keys in the reference (console.keymap)
    BINDINGS = [
        Binding("6", "filter_operator", _("Operator"), id="supervisor.filter_operator",
                tooltip=_("Show one operator's tasks; press again for the next operator.")),
    ]

    def __init__(self, store: Store, operator: OperatorRow, *, keys: dict[str, str] | None = None,
                 language: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(store, operator, keys=keys, language=language, default_filter=ALL)
        self.clock = clock
        self._summary_loading = False
        self._summary_stale = False

    def compose_above_thread(self) -> list[Widget]:
        return [SupervisorSummaryView(self.clock, id="summary")]

    def on_mount(self) -> None:
        super().on_mount()
        self.load_summary()

    def composer_block_reason(self, task: TaskRow | None) -> str:
        reason = super().composer_block_reason(task)
        if reason or task is None:
            return reason
        if task.assignee_id != self.me.id:
            key = self.keys.get("inbox.take_over", "ctrl+t")
            return _("Read-only: take the task over ({key}) to write").format(key=key)
        return ""

    def action_filter_operator(self) -> None:
        operators = list(self.operators)
        if not operators:
            self.notify(_("No operators yet."), severity="warning")
            return
        self.set_choice(next_operator(self.choice, operators))

    def load_summary(self) -> None:
        """Reload the summary and the team's numbers; a reload asked for while one runs
        follows it (one at a time, never cancelled half-way, none lost)."""
        if self._summary_loading:
            self._summary_stale = True
            return
        self._summary_loading = True
        self._load_summary()

    @work(thread=True, group="summary", exit_on_error=False)
    def _load_summary(self) -> None:
        try:
            summary = self.store.supervisor_summary()
            stats = [s for s in team_stats(self.store) if s.role != SUPERVISOR or s.open_tasks]
        except Exception:
            self.app.call_from_thread(self._summary_done)
            raise
        self.app.call_from_thread(self._summary_loaded, summary, stats)

    def _summary_loaded(self, summary: object, stats: list[OperatorStats]) -> None:
        view = self.query_one(SupervisorSummaryView)
        view.stats = stats
        view.summary = summary  # type: ignore[assignment]
        self._summary_done()

    def _summary_done(self) -> None:
        self._summary_loading = False
        if self._summary_stale:
            self._summary_stale = False
            self.load_summary()

    def after_store_changed(self, message: StoreChanged) -> None:
        self.load_summary()

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands = super().palette_commands()
        for operator in self.operators:
            commands.append((_("Filter: operator {name}").format(name=operator.name),
                             _("Show this operator's tasks"),
                             lambda o=operator: self._filter_by(o)))
        return commands

    def _filter_by(self, operator: OperatorRow) -> None:
        self.set_choice(FilterChoice(OPERATOR, operator=operator))
