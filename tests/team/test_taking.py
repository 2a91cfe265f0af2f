"""Taking a task: exactly one taker wins, in one process and across twenty."""

from __future__ import annotations

import pytest

from storage.errors import NotFound, RuleViolation
from storage.models import COMPLETED, IN_PROGRESS, NEW, WAITING
from storage.taking import take
from tests.team.conftest import Team
from tests.team.procs import Children


def test_first_taker_wins_and_the_second_is_told_who(team: Team) -> None:
    task = team.say("ivan").task
    assert task.status == NEW and task.assignee_id is None

    won = take(team.store, task.id, team.anna)
    lost = take(team.store, task.id, team.boris)

    assert (won.won, won.changed, won.winner_id) == (True, True, team.anna)
    assert (lost.won, lost.changed, lost.winner_id, lost.winner_name) == (
        False, False, team.anna, "Anna")
    assert lost.message() == f"Anna took task #{task.number} first."
    row = team.store.get_task(task.id)
    assert row.assignee_id == team.anna and row.status == IN_PROGRESS
    audit = [a for a in team.store.audit_for(task.id) if a.action == "taken"]
    assert [(a.operator_id, a.detail["to"]) for a in audit] == [(team.anna, team.anna)]
    events = [m for m in team.store.thread_before(task.id).items if m.meta.get("event") == "assigned"]
    assert [e.text for e in events] == ["Assigned to Anna."]


def test_taking_your_own_task_again_changes_nothing(team: Team) -> None:
    task = team.say("ivan").task
    take(team.store, task.id, team.anna)
    again = take(team.store, task.id, team.anna)
    assert (again.won, again.changed) == (True, False)
    assert again.message() == f"Task #{task.number} is already yours."
    assert len([a for a in team.store.audit_for(task.id) if a.action == "taken"]) == 1


def test_a_task_assigned_by_a_supervisor_cannot_be_taken(team: Team) -> None:
    task = team.say("ivan").task
    team.store.set_status([task.id], WAITING, by=team.maria)
    team.store.assign([task.id], team.vera, by=team.maria)
    lost = take(team.store, task.id, team.anna)
    assert (lost.won, lost.winner_name) == (False, "Vera")
    assert team.store.get_task(task.id).status == WAITING


def test_take_publishes_one_task_update_after_commit(team: Team) -> None:
    task = team.say("ivan").task
    seen = []
    unsubscribe = team.store.bus.subscribe(seen.append)
    try:
        take(team.store, task.id, team.anna)
        take(team.store, task.id, team.boris)
    finally:
        unsubscribe()
    updates = [e for e in seen if e.kind == "task.updated" and e.task_id == task.id]
    if not team.store.postgres:  # PostgreSQL delivers on its listener thread, later
        assert [e.data.get("assignee") for e in updates] == [team.anna]


def test_unknown_task_operator_and_merged_task_are_refused(team: Team) -> None:
    with pytest.raises(NotFound):
        take(team.store, 999_999, team.anna)
    task = team.say("ivan").task
    with pytest.raises(NotFound):
        take(team.store, task.id, 999_999)
    team.store.set_status([task.id], COMPLETED, by=team.maria)
    later = team.say("ivan").task  # the same client again: a new task
    team.store.merge_tasks(later.id, [task.id], team.maria)
    with pytest.raises(RuleViolation, match="merged"):
        take(team.store, task.id, team.anna)
    assert team.store.get_task(task.id).assignee_id is None


RACERS = 20


def test_twenty_processes_take_one_task_and_exactly_one_wins(
        team: Team, store_url: str, children: Children) -> None:
    task = team.say("ivan").task
    racers = [children.start("take", store_url, str(task.id), f"racer-{i}")
              for i in range(RACERS)]
    for racer in racers:  # every process is connected and waiting
        racer.expect("ready")
    for racer in racers:
        racer.send("go\n")
    results = [racer.expect("result") for racer in racers]

    winners = [r for r in results if r["won"]]
    assert len(winners) == 1
    winner = winners[0]
    assert all(r["winner_id"] == winner["me"] for r in results)
    assert all(r["message"] == f"{winner['winner_name']} took task #{task.number} first."
               for r in results if not r["won"])
    row = team.store.get_task(task.id)
    assert row.assignee_id == winner["me"] and row.assignee_name == winner["winner_name"]
    taken = [a for a in team.store.audit_for(task.id) if a.action == "taken"]
    assert len(taken) == 1 and taken[0].operator_id == winner["me"]
    assigned = [m for m in team.store.thread_before(task.id).items
                if m.meta.get("event") == "assigned"]
    assert len(assigned) == 1
