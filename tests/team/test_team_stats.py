"""The supervisor's numbers per operator, on a data set whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.models import COMPLETED, utcnow
from storage.taking import take
from storage.team_stats import percentile, start_of_day, team_stats
from tests.team.conftest import Team

SINCE = utcnow() - timedelta(days=1)
BASE = utcnow() - timedelta(hours=1)


def reply_at(team: Team, task_id: int, operator_id: int, at: datetime, *,
             first: bool = False) -> None:
    """A reply written at ``at`` (the clock of the data set, not the test's)."""
    m = team.store.m
    msg = team.store.reply(task_id, operator_id, f"reply at {at:%H:%M:%S}")
    m.Message.update(created_at=at).where(m.Message.id == msg.id).execute()
    if first:
        m.Task.update(first_reply_at=at).where(m.Task.id == task_id).execute()


def client_task(team: Team, chat: str, at: datetime, owner: int) -> int:
    task_id = team.say(chat, sent_at=at).task.id
    take(team.store, task_id, owner)
    return task_id


@pytest.fixture
def known(team: Team) -> Team:
    for n, delay in enumerate((10, 20, 30, 100)):
        task_id = client_task(team, f"a{n}", BASE, team.anna)
        reply_at(team, task_id, team.anna, BASE + timedelta(seconds=delay), first=True)
        if n == 0:  # the client writes again after the reply: waiting for Anna
            team.say("a0", "and one more thing", sent_at=BASE + timedelta(minutes=5))
        if n == 3:
            team.store.set_status([task_id], COMPLETED, by=team.anna)
    boris_task = client_task(team, "b0", BASE, team.boris)
    reply_at(team, boris_task, team.boris, BASE + timedelta(seconds=60), first=True)
    reply_at(team, boris_task, team.boris, BASE + timedelta(seconds=90))
    team.store.note(boris_task, team.boris, "notes are not replies")
    # Boris answers first in Anna's task: his first response, her open task.
    shared = client_task(team, "s0", BASE, team.anna)
    reply_at(team, shared, team.boris, BASE + timedelta(seconds=40), first=True)
    # Vera writes first to a client whose earlier task is closed: a task the company
    # started, where no client was waiting, so no first-response time.
    closed = client_task(team, "w0", SINCE - timedelta(hours=3), team.vera)
    team.store.set_status([closed], COMPLETED, by=team.vera)
    contact = team.store.get_task(closed).contact_id
    started = team.store.write_first(contact, team.web, team.vera, "hello from us").task_id
    assert started != closed
    # Yesterday's work: not today.
    old = client_task(team, "old", SINCE - timedelta(hours=2), team.anna)
    reply_at(team, old, team.anna, SINCE - timedelta(hours=1), first=True)
    m = team.store.m
    m.Task.update(last_activity_at=SINCE - timedelta(hours=1)).where(m.Task.id == old).execute()
    return team


def test_numbers_per_operator(known: Team) -> None:
    stats = {s.name: s for s in team_stats(known.store, day_start=SINCE)}
    assert list(stats) == sorted(stats)  # every operator, by name
    anna, boris, vera, maria = stats["Anna"], stats["Борис"], stats["Vera"], stats["Maria"]
    # Open: a0, a1, a2, s0 and yesterday's (a3 is completed). Waiting for an answer: only
    # a0, where the client wrote again after the reply.
    assert (anna.open_tasks, anna.waiting_tasks) == (5, 1)
    assert anna.replies_today == 4
    assert anna.first_responses == 4
    assert anna.median_first_response == pytest.approx(25.0)
    assert anna.p90_first_response == pytest.approx(100.0)
    assert (boris.open_tasks, boris.waiting_tasks, boris.replies_today) == (1, 0, 3)
    assert boris.first_responses == 2
    assert boris.median_first_response == pytest.approx(50.0)
    assert boris.p90_first_response == pytest.approx(60.0)
    assert (vera.open_tasks, vera.replies_today) == (1, 1)
    assert (vera.first_responses, vera.median_first_response) == (0, None)
    assert (maria.open_tasks, maria.replies_today, maria.p90_first_response) == (0, 0, None)


def test_the_window_moves_with_the_day(known: Team) -> None:
    later = {s.name: s for s in team_stats(known.store, day_start=utcnow() + timedelta(hours=1))}
    assert later["Anna"].replies_today == 0 and later["Anna"].first_responses == 0
    assert later["Anna"].open_tasks == 5  # load does not depend on the day


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 12)], 0.9) == 10.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0


def test_start_of_day_keeps_the_timezone() -> None:
    moscow = timezone(timedelta(hours=3))
    assert start_of_day(datetime(2026, 3, 1, 1, 30, tzinfo=moscow)) == datetime(
        2026, 3, 1, tzinfo=moscow)
    assert start_of_day(datetime(2026, 3, 1, 23, 59, tzinfo=UTC)).hour == 0
