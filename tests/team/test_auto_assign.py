"""Availability and auto-assignment: round robin among available operators, under limits."""

from __future__ import annotations

import threading

import pytest

from storage.auto_assign import AutoAssigner, assign_backlog, auto_assign
from storage.availability import (
    OPERATOR_AVAILABILITY,
    availability,
    is_available,
    set_available,
    set_open_limit,
)
from storage.errors import NotFound, RuleViolation
from storage.models import COMPLETED, IN_PROGRESS
from storage.store import Store
from storage.taking import take
from tests.team.conftest import Team


def auto(team: Team, limit: int | None = None) -> None:
    settings: dict[str, object] = {"auto_assign": True}
    if limit is not None:
        settings["auto_assign_limit"] = limit
    team.store.ensure_channel("webchat", "web", settings)


def test_operators_start_away_and_set_themselves_available(team: Team) -> None:
    assert not any(a.available for a in availability(team.store).values())
    set_available(team.store, team.anna, True)
    assert is_available(team.store, team.anna) and not is_available(team.store, team.boris)
    set_available(team.store, team.anna, False)
    assert not is_available(team.store, team.anna)
    set_open_limit(team.store, team.boris, 3, by=team.maria)
    assert availability(team.store)[team.boris].max_open == 3
    audit = [a for a in team.store.m.Audit.select().where(team.store.m.Audit.action == "availability")]
    assert [(a.operator_id, a.detail["available"]) for a in audit] == [
        (team.anna, True), (team.anna, False), (team.maria, False)]


def test_availability_persists_across_stores(team: Team, store_url: str) -> None:
    set_available(team.store, team.vera, True)
    other = Store.open(store_url)
    try:
        assert is_available(other, team.vera)
    finally:
        other.close()


def test_availability_is_published(team: Team) -> None:
    seen = threading.Event()
    got = []

    def on_event(event: object) -> None:
        if getattr(event, "kind", None) == OPERATOR_AVAILABILITY:
            got.append(event)
            seen.set()

    unsubscribe = team.store.bus.subscribe(on_event)
    try:
        set_available(team.store, team.anna, True)
        assert seen.wait(10)
    finally:
        unsubscribe()
    assert got[0].data == {"operator_id": team.anna, "available": True, "max_open": None}


def test_bad_input_is_refused(team: Team) -> None:
    with pytest.raises(NotFound):
        set_available(team.store, 999_999, True)
    with pytest.raises(RuleViolation):
        set_open_limit(team.store, team.anna, -1)


def test_round_robin_skips_away_operators(team: Team) -> None:
    auto(team)
    for op in (team.anna, team.boris, team.vera):
        set_available(team.store, op, True)
    set_available(team.store, team.boris, False)
    picks = [auto_assign(team.store, team.say(f"c{i}").task.id) for i in range(5)]
    assert picks == [team.anna, team.vera, team.anna, team.vera, team.anna]
    task = team.store.list_tasks().items[0]
    assert task.assignee_id == team.anna and task.status == IN_PROGRESS
    assert [a.action for a in team.store.audit_for(task.id)][-1] == "auto_assigned"


def test_limits_channel_wide_and_per_operator(team: Team) -> None:
    auto(team, limit=2)
    for op in (team.anna, team.boris):
        set_available(team.store, op, True)
    set_open_limit(team.store, team.boris, 1)  # Boris's own cap beats the channel's
    picks = [auto_assign(team.store, team.say(f"c{i}").task.id) for i in range(4)]
    assert picks == [team.anna, team.boris, team.anna, None]
    waiting = team.store.list_tasks().items[0]
    assert waiting.assignee_id is None
    # Closing one of Anna's tasks frees a slot: the backlog goes to her.
    annas = [t for t in team.store.list_tasks().items if t.assignee_id == team.anna]
    team.store.set_status([annas[0].id], COMPLETED, by=team.anna)
    assert assign_backlog(team.store) == 1
    assert team.store.get_task(waiting.id).assignee_id == team.anna


def test_no_auto_assignment_unless_the_channel_asks(team: Team) -> None:
    set_available(team.store, team.anna, True)
    assert auto_assign(team.store, team.say("c1").task.id) is None
    auto(team)
    assert auto_assign(team.store, team.say("c1", channel=team.telegram).task.id) is None


def test_never_overrides_a_take(team: Team) -> None:
    auto(team)
    set_available(team.store, team.anna, True)
    task = team.say("c1").task
    take(team.store, task.id, team.boris)
    assert auto_assign(team.store, task.id) is None
    assert team.store.get_task(task.id).assignee_id == team.boris


def test_nobody_available_leaves_tasks_unassigned(team: Team) -> None:
    auto(team)
    assert auto_assign(team.store, team.say("c1").task.id) is None


class Watch:
    """Events of the bus as conditions: ``created(task)``/``assigned(task)`` are set when the
    event arrives (on PostgreSQL from the listener thread, later than the commit)."""

    def __init__(self, store: Store) -> None:
        self.created: dict[int, threading.Event] = {}
        self.assigned: dict[int, threading.Event] = {}
        self.unsubscribe = store.bus.subscribe(self._on_event)

    def _flag(self, table: dict[int, threading.Event], task_id: int) -> threading.Event:
        return table.setdefault(task_id, threading.Event())

    def _on_event(self, event: object) -> None:
        kind, task_id = getattr(event, "kind", ""), getattr(event, "task_id", None)
        if task_id is None:
            return
        if kind == "task.created":
            self._flag(self.created, task_id).set()
        elif kind == "task.updated" and getattr(event, "data", {}).get("assignee"):
            self._flag(self.assigned, task_id).set()


def test_the_assigner_follows_the_bus(team: Team) -> None:
    auto(team, limit=1)
    set_available(team.store, team.anna, True)
    assigner = AutoAssigner(team.store)
    assigner.start()  # subscribed before the watch: it has queued its job when we hear
    watch = Watch(team.store)
    try:
        first = team.say("c1").task
        assert watch._flag(watch.assigned, first.id).wait(30)
        assert team.store.get_task(first.id).assignee_id == team.anna
        second = team.say("c2").task  # Anna is full: it waits
        assert watch._flag(watch.created, second.id).wait(30)
        assigner.join()
        assert team.store.get_task(second.id).assignee_id is None
        set_available(team.store, team.boris, True)  # Boris arrives: the backlog is his
        assert watch._flag(watch.assigned, second.id).wait(30)
        assert team.store.get_task(second.id).assignee_id == team.boris
    finally:
        watch.unsubscribe()
        assigner.stop()
