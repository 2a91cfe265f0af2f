"""Issue 18: a snoozed task hides from the lists and comes back on time or when the
client writes; the automation runner announces the moment a snooze ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.automation import AutomationWorker
from storage import events as ev
from storage.errors import RuleViolation
from storage.inputs import AttachmentIn, Inbound, TaskFilter
from storage.models import utcnow
from storage.rules.loader import RuleSet
from tests.rules.conftest import FakeClock
from tests.storage.conftest import Desk, snapshot
from tests.storage.test_events import Recorder


def _listed(desk: Desk, f: TaskFilter | None = None) -> list[int]:
    return [t.id for t in desk.store.list_tasks(f).items]


def test_a_snoozed_task_hides_until_its_time(desk: Desk) -> None:
    a = desk.say(desk.web, "v1", "a").task.id
    b = desk.say(desk.web, "v2", "b").task.id
    desk.store.snooze([a], utcnow() + timedelta(hours=2), by=desk.anna)
    assert _listed(desk) == [b]
    assert desk.store.count_tasks() == 1
    assert _listed(desk, TaskFilter(include_snoozed=True)) == [b, a]
    assert _listed(desk, TaskFilter(snoozed_only=True)) == [a]
    row = desk.store.get_task(a)
    assert row.snoozed() and not row.snoozed(row.snoozed_until + timedelta(seconds=1))
    assert [x.action for x in desk.store.audit_for(a)][-1] == "snoozed"


def test_a_snooze_whose_time_passed_shows_without_any_timer(desk: Desk) -> None:
    a = desk.say(desk.web, "v1", "a").task.id
    desk.store.snooze([a], utcnow() + timedelta(hours=1))
    T = desk.store.m.Task  # the hour passes: the stored end is now behind us
    T.update(snoozed_until=utcnow() - timedelta(seconds=1)).where(T.id == a).execute()
    assert _listed(desk) == [a]
    assert desk.store.end_snoozes() == [a]
    assert desk.store.end_snoozes() == []  # once
    assert desk.store.get_task(a).snoozed_until is None


@pytest.mark.parametrize("with_time", [False, True])
def test_the_client_writing_brings_the_task_back(desk: Desk, with_time: bool) -> None:
    """Both ingest paths clear it: the fast one (plain text) and the general one (a file)."""
    a = desk.say(desk.web, "v1", "a").task.id
    until = utcnow() + timedelta(days=3) if with_time else None
    desk.store.snooze([a], until, until_client_writes=True)
    assert _listed(desk) == []
    desk.say(desk.web, "v1", "any news?")
    assert _listed(desk) == [a]
    assert not desk.store.get_task(a).snoozed()
    desk.store.snooze([a], None, until_client_writes=True)
    desk.store.ingest(Inbound(channel_id=desk.web, chat_id="v1", sender_id="v1", text="",
                              external_id="file-1",
                              attachments=(AttachmentIn("photo.jpg", "image/jpeg", 10),)))
    assert _listed(desk) == [a]


def test_unsnooze_and_refusals(desk: Desk) -> None:
    a = desk.say(desk.web, "v1", "a").task.id
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation):
        desk.store.snooze([a], None, until_client_writes=False)
    with pytest.raises(RuleViolation):
        desk.store.snooze([a], utcnow() - timedelta(minutes=1))
    assert snapshot(desk.store) == before
    desk.store.snooze([a], None, until_client_writes=True, by=desk.anna)
    desk.store.unsnooze([a], by=desk.anna)
    assert _listed(desk) == [a]
    assert [x.action for x in desk.store.audit_for(a)][-2:] == ["snoozed", "unsnoozed"]


async def test_the_runner_announces_the_end_of_a_snooze(desk: Desk) -> None:
    a = desk.say(desk.web, "v1", "a").task.id
    until = utcnow() + timedelta(hours=1)
    desk.store.snooze([a], until)
    clock = FakeClock(utcnow())
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    worker = AutomationWorker(desk.store, RuleSet(rules=()), clock)
    await worker.start()
    try:
        await worker.wait_for(lambda: worker.next_due == until)
        rounds = worker.rounds
        clock.now = until + timedelta(seconds=1)
        worker.wake()
        await worker.wait_for(lambda: worker.rounds > rounds)
        events = rec.wait_for(lambda evs: any(
            e.kind == ev.TASK_UPDATED and e.data.get("snoozed") is False for e in evs))
        assert [e.task_id for e in events if e.kind == ev.TASK_UPDATED
                and e.data.get("snoozed") is False] == [a]
        assert worker.next_due is None
    finally:
        await worker.stop()
