"""Presence and the collision notice: who is in a task, who is typing, gone when they leave.

In one process (one store, its bus) and between two processes, on both backends: a
console that quits disappears at once, one that is killed disappears when its entry
expires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from storage.collision import collision
from storage.models import utcnow
from storage.presence import PRESENCE, PresenceAnnouncer, PresenceTracker, publish
from storage.store import Store
from tests.team.conftest import Team
from tests.team.procs import Children


class Changes:
    """A tracker's on_change as a condition to wait for."""

    def __init__(self) -> None:
        self._cond = threading.Condition()

    def __call__(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait_until(self, check: Callable[[], bool], timeout: float = 30.0) -> bool:
        with self._cond:
            return self._cond.wait_for(check, timeout)


@pytest.fixture
def tracked(team: Team) -> Iterator[tuple[PresenceTracker, Changes]]:
    changes = Changes()
    tracker = PresenceTracker(team.store, on_change=changes)
    tracker.start()
    yield tracker, changes
    tracker.stop()


def test_viewing_and_typing_are_seen_and_leaving_clears_them(
        team: Team, tracked: tuple[PresenceTracker, Changes]) -> None:
    tracker, changes = tracked
    task = team.say("ivan").task
    anna = PresenceAnnouncer(team.store, team.anna, "Anna", heartbeat=30)
    anna.start()
    try:
        anna.view(task.id)
        assert changes.wait_until(lambda: [e.operator_name for e in tracker.in_task(task.id)]
                                  == ["Anna"])
        assert not tracker.in_task(task.id)[0].typing
        anna.typing(task.id)
        assert changes.wait_until(lambda: tracker.in_task(task.id)[0].typing)
        assert tracker.by_task() == {task.id: tracker.in_task(task.id)}
        assert tracker.in_task(task.id, exclude_session=anna.session) == []
        anna.stop_typing()
        assert changes.wait_until(lambda: not tracker.in_task(task.id)[0].typing)
    finally:
        anna.close()
    assert changes.wait_until(lambda: tracker.entries() == [])


def test_typing_fades_without_keystrokes(team: Team,
                                         tracked: tuple[PresenceTracker, Changes]) -> None:
    tracker, changes = tracked
    task = team.say("ivan").task
    anna = PresenceAnnouncer(team.store, team.anna, "Anna", heartbeat=30, typing_ttl=0.2)
    anna.start()
    try:
        anna.typing(task.id)
        assert changes.wait_until(lambda: any(e.typing for e in tracker.in_task(task.id)))
        # No further keystroke: the announcer says so itself, long before its heartbeat.
        assert changes.wait_until(lambda: tracker.in_task(task.id) != []
                                  and not tracker.in_task(task.id)[0].typing, timeout=10)
    finally:
        anna.close()


def test_a_silent_console_expires(team: Team, tracked: tuple[PresenceTracker, Changes]) -> None:
    """One beat and then silence (a console that died): the entry expires after its ttl."""
    tracker, changes = tracked
    task = team.say("ivan").task
    publish(team.store, PRESENCE, task_id=task.id, session="dead", operator_id=team.anna,
            operator_name="Anna", typing=True, ttl=0.3)
    assert changes.wait_until(lambda: [e.session for e in tracker.in_task(task.id)] == ["dead"])
    assert changes.wait_until(lambda: tracker.in_task(task.id) == [], timeout=10)
    assert tracker.entries() == []


def test_malformed_presence_is_ignored(team: Team,
                                       tracked: tuple[PresenceTracker, Changes]) -> None:
    tracker, changes = tracked
    publish(team.store, PRESENCE, session="x", operator_id="not a number", operator_name="?")
    publish(team.store, PRESENCE, task_id=1, session="ok", operator_id=team.anna,
            operator_name="Anna", typing=False, ttl=30)
    assert changes.wait_until(lambda: [e.session for e in tracker.entries()] == ["ok"])


def test_a_new_tracker_learns_who_is_here_at_once(team: Team) -> None:
    task = team.say("ivan").task
    anna = PresenceAnnouncer(team.store, team.anna, "Anna", heartbeat=3600)
    anna.start()
    anna.view(task.id)
    changes = Changes()
    late = PresenceTracker(team.store, on_change=changes)
    try:
        late.start()  # asks; Anna answers without waiting an hour for her heartbeat
        assert changes.wait_until(lambda: late.in_task(task.id) != [])
    finally:
        late.stop()
        anna.close()


def test_presence_is_never_stored(team: Team, tracked: tuple[PresenceTracker, Changes]) -> None:
    tracker, changes = tracked
    task = team.say("ivan").task
    audit_before = team.store.m.Audit.select().count()
    messages_before = team.store.thread_count(task.id)
    anna = PresenceAnnouncer(team.store, team.anna, "Anna", heartbeat=30)
    anna.start()
    anna.typing(task.id)
    assert changes.wait_until(lambda: tracker.in_task(task.id) != [])
    anna.close()
    assert team.store.m.Audit.select().count() == audit_before
    assert team.store.thread_count(task.id) == messages_before


def test_collision_notice_names_typists_and_shows_replies(
        team: Team, tracked: tuple[PresenceTracker, Changes]) -> None:
    tracker, changes = tracked
    task = team.say("ivan").task
    started = utcnow() - timedelta(seconds=1)
    me = PresenceAnnouncer(team.store, team.anna, "Anna", heartbeat=30)
    boris = PresenceAnnouncer(team.store, team.boris, "Борис", heartbeat=30)
    me.start()
    boris.start()
    try:
        me.typing(task.id)
        assert changes.wait_until(lambda: len(tracker.in_task(task.id)) == 1)
        assert not collision(team.store, tracker, task.id, team.anna, started, me.session)
        boris.typing(task.id)
        assert changes.wait_until(lambda: len(tracker.in_task(task.id)) == 2)
        found = collision(team.store, tracker, task.id, team.anna, started, me.session)
        assert [e.operator_name for e in found.typing] == ["Борис"] and not found.replies
        team.store.reply(task.id, team.anna, "mine do not count")
        team.store.reply(task.id, team.boris, "Your order ships today.")
        boris.stop_typing()
        assert changes.wait_until(lambda: not any(e.typing for e in tracker.in_task(task.id)
                                                  if e.operator_id == team.boris))
        found = collision(team.store, tracker, task.id, team.anna, started, me.session)
        assert found.typing == ()
        assert [(m.author_operator_name, m.text) for m in found.replies] == [
            ("Борис", "Your order ships today.")]
        assert not collision(team.store, tracker, task.id, team.anna, utcnow(), me.session)
    finally:
        me.close()
        boris.close()


def test_presence_between_processes(store_url: str, children: Children) -> None:
    """PostgreSQL carries presence by NOTIFY; SQLite by the file's cross-process wake-up."""
    store = Store.open(store_url)
    changes = Changes()
    tracker = PresenceTracker(store, on_change=changes)
    tracker.start()
    try:
        store.ensure_operator("Anna")
        # A console in another process, typing in task 7; it leaves cleanly.
        leaving = children.start("announce", store_url, "Anna", "7", "30")
        session = leaving.expect("ready")["session"]
        assert changes.wait_until(lambda: [(e.session, e.typing) for e in tracker.in_task(7)]
                                  == [(session, True)])
        leaving.close_stdin()
        leaving.expect("left")
        assert changes.wait_until(lambda: tracker.in_task(7) == [], timeout=10)  # not expiry (90 s)

        # Another one is killed: it disappears within its ttl (three 0.3 s heartbeats).
        killed = children.start("announce", store_url, "Anna", "8", "0.3")
        killed.expect("ready")
        assert changes.wait_until(lambda: tracker.in_task(8) != [])
        killed.kill()
        assert changes.wait_until(lambda: tracker.in_task(8) == [], timeout=10)
    finally:
        tracker.stop()
        store.close()
