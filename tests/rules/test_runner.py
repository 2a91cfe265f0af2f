"""The runner: woken by store events and by the next due time; restarts and a second
process neither lose nor repeat a firing."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

from connectors.automation import AutomationWorker
from storage.models import NOTE, utcnow
from storage.rules import Automation, firings_for, notifications_for, parse_rules
from storage.rules.log import rule_models
from storage.store import Store
from tests.rules import runner_process
from tests.rules.conftest import FakeClock, Rig

NOT_TAKEN = """
rules:
  - id: not-taken
    when:
      no_first_reply: {minutes: 30}
    then:
      - note: "Nobody answered within 30 minutes."
      - notify: supervisors
"""

WELCOME = """
rules:
  - id: welcome
    when: task_created
    then:
      - reply: {text: "Welcome!"}
"""


def notes(store: Store, task_id: int) -> list[str]:
    return [m.text for m in store.thread_before(task_id, None, 50).items if m.kind == NOTE]


async def test_an_event_wakes_the_runner(rig: Rig) -> None:
    worker = AutomationWorker(rig.store, parse_rules(WELCOME), rig.clock)
    await worker.start()
    try:
        result = rig.desk.say(rig.desk.web, "c1", "hi")
        await worker.wait_for(lambda: len(worker.fired) == 1)
        assert worker.fired[0].task_id == result.task.id
        texts = [m.text for m in rig.store.thread_before(result.task.id, None, 50).items
                 if m.kind == "outbound"]
        assert texts == ["Welcome!"]
    finally:
        await worker.stop()


async def test_the_runner_sleeps_until_the_stored_due_time(rig: Rig) -> None:
    task = rig.desk.say(rig.desk.web, "c1", "hi").task
    created = rig.store.get_task(task.id).created_at
    rig.clock.now = created + timedelta(minutes=5)
    worker = AutomationWorker(rig.store, parse_rules(NOT_TAKEN), rig.clock)
    await worker.start()
    try:
        await worker.wait_for(lambda: worker.next_due == created + timedelta(minutes=30))
        rounds = worker.rounds
        rig.clock.advance(minutes=26)
        worker.wake()
        await worker.wait_for(lambda: worker.rounds > rounds)
        assert [f.rule_id for f in worker.fired] == ["not-taken"]
        assert worker.next_due is None
    finally:
        await worker.stop()


def test_a_restart_in_the_middle_of_a_timer_neither_loses_nor_repeats(
        sqlite_store: Store, sqlite_path: Path) -> None:
    store = sqlite_store
    channel = store.ensure_channel("webchat", "web").id
    store.ensure_operator("Maria", "supervisor")
    from storage.inputs import Inbound

    task = store.ingest(Inbound(channel, "c1", "c1", "hi", external_id="m1")).task
    created = store.get_task(task.id).created_at
    offset = (created - utcnow()).total_seconds() / 60 + 31

    # A process dies after the rule's first action wrote, before its commit: no trace.
    ctx = multiprocessing.get_context("spawn")
    crash = ctx.Process(target=runner_process.crash_mid_firing,
                        args=(str(sqlite_path), NOT_TAKEN, offset))
    crash.start()
    crash.join(60)
    assert crash.exitcode == 3
    assert firings_for(store, task.id) == [] and notes(store, task.id) == []

    # The next process (the restart) fires it, once; another restart does not repeat it.
    clock = FakeClock(created + timedelta(minutes=31))
    first = Automation(store, parse_rules(NOT_TAKEN), clock)
    assert [f.outcome for f in first.run_due()] == ["fired"]
    clock.advance(minutes=30)
    again = Automation(store, parse_rules(NOT_TAKEN), clock)
    assert again.run_due() == [] and again.next_due() is None
    assert notes(store, task.id) == ["Nobody answered within 30 minutes."]
    assert len(firings_for(store, task.id)) == 1


async def test_a_restarted_runner_picks_up_the_timer(sqlite_store: Store) -> None:
    store = sqlite_store
    channel = store.ensure_channel("webchat", "web").id
    from storage.inputs import Inbound

    task = store.ingest(Inbound(channel, "c1", "c1", "hi", external_id="m1")).task
    created = store.get_task(task.id).created_at
    clock = FakeClock(created + timedelta(minutes=10))
    before = AutomationWorker(store, parse_rules(NOT_TAKEN), clock)
    await before.start()
    await before.wait_for(lambda: before.next_due is not None)
    await before.stop()  # the process goes down with the timer pending
    clock.advance(minutes=25)  # ... and comes back after the due time
    after = AutomationWorker(store, parse_rules(NOT_TAKEN), clock)
    await after.start()
    try:
        await after.wait_for(lambda: after.rounds >= 1)
        assert [f.task_id for f in after.fired] == [task.id]
    finally:
        await after.stop()
    assert before.fired == []


def test_two_runner_processes_on_postgresql_fire_each_timer_once(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        channel = store.ensure_channel("webchat", "web").id
        maria = store.ensure_operator("Maria", "supervisor").id
        from storage.inputs import Inbound

        tasks = [store.ingest(Inbound(channel, f"c{n}", f"c{n}", "hi", external_id=f"m{n}")).task
                 for n in range(12)]
        rule_models(store)  # the tables exist before the race (they are created safely anyway)
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(2)
        results = ctx.Queue()
        procs = [ctx.Process(target=runner_process.serve,
                             args=(pg_url, NOT_TAKEN, 31, len(tasks), barrier, results))
                 for _n in range(2)]
        for p in procs:
            p.start()
        counts = [results.get(timeout=120) for _p in procs]
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert sum(counts) == len(tasks)
        for task in tasks:
            assert [f.outcome for f in firings_for(store, task.id)] == ["fired"]
            assert notes(store, task.id) == ["Nobody answered within 30 minutes."]
        assert len(notifications_for(store, maria)) == len(tasks)
    finally:
        store.close()


async def test_stopping_handles_what_already_arrived(sqlite_store: Store) -> None:
    channel = sqlite_store.ensure_channel("webchat", "web").id
    worker = AutomationWorker(sqlite_store, parse_rules(WELCOME))
    await worker.start()
    from storage.inputs import Inbound

    task = sqlite_store.ingest(Inbound(channel, "c1", "c1", "hi", external_id="m1")).task
    await worker.stop()  # the event is pending: the last round still handles it
    assert [f.task_id for f in worker.fired] == [task.id]
