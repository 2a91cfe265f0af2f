"""``TaskFilter.matches`` (the rule applied outside SQL, e.g. by the task list) keeps to
the store's SQL filter: for every filter, the same tasks."""

from __future__ import annotations

from datetime import timedelta

from storage.inputs import TaskFilter
from storage.models import CANCELLED, DONE, IN_PROGRESS, NEW, WAITING, utcnow
from tests.storage.conftest import Desk


def test_matches_agrees_with_the_sql_filter(desk: Desk) -> None:
    s = desk.store
    tasks = [desk.say(channel, chat).task.id for channel, chat in (
        (desk.web, "a"), (desk.web, "b"), (desk.telegram, "c"), (desk.telegram, "d"),
        (desk.vk, "e"), (desk.whatsapp, "f"), (desk.web, "g"))]
    s.assign([tasks[0], tasks[2]], desk.anna)
    s.assign([tasks[1]], desk.boris)
    s.set_status([tasks[3]], DONE)
    s.set_status([tasks[4]], CANCELLED)
    s.snooze([tasks[5]], utcnow() + timedelta(hours=1))
    s.snooze([tasks[6]], None, until_client_writes=True)
    contact = s.get_task(tasks[2]).contact_id
    filters = [
        TaskFilter(), TaskFilter(assignee_id=desk.anna), TaskFilter(unassigned=True),
        TaskFilter(channel_id=desk.web), TaskFilter(statuses=(NEW, WAITING)),
        TaskFilter(statuses=(IN_PROGRESS,)), TaskFilter(active_only=True),
        TaskFilter(hide_closed=True), TaskFilter(contact_id=contact),
        TaskFilter(include_snoozed=True), TaskFilter(snoozed_only=True),
        TaskFilter(unassigned=True, active_only=True, include_snoozed=True),
        TaskFilter(channel_id=desk.telegram, hide_closed=True, assignee_id=desk.anna),
    ]
    every = [s.get_task(t) for t in tasks]
    for f in filters:
        by_sql = {t.id for t in s.list_tasks(f, limit=100).items}
        by_rule = {t.id for t in every if f.matches(t)}
        assert by_sql == by_rule, f
    assert {t.id for t in s.list_tasks(TaskFilter(snoozed_only=True)).items} == {
        tasks[5], tasks[6]}  # the comparison above is not vacuous
