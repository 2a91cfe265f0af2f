"""Issue 19.8: a queued message whose channel has no running connector says so, once,
and the reason goes when a running channel takes the message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from connectors.outbox import OutboxWorker
from storage import events as ev
from storage.events import Event
from storage.models import QUEUED, SENDING
from tests.storage.conftest import Desk


def test_mark_unserved_names_the_channel_once(desk: Desk) -> None:
    tg = desk.say(desk.telegram, "1", "hi").task.id
    web = desk.say(desk.web, "v", "hi").task.id
    to_tg = desk.store.reply(tg, desk.anna, "hello").id
    to_web = desk.store.reply(web, desk.anna, "hello").id
    assert desk.store.mark_unserved([desk.web]) == 1
    assert desk.store.mark_unserved([desk.web]) == 0  # once
    waiting = desk.store.get_message(to_tg)
    assert waiting.delivery_state == QUEUED
    assert "telegram" in waiting.failure_reason and "not running" in waiting.failure_reason
    assert desk.store.get_message(to_web).failure_reason == ""
    # The channel starts: its claim takes the message and the reason goes.
    [item] = desk.store.claim_outbox(limit=5, channel_ids=(desk.telegram,))
    taken = desk.store.get_message(item.message_id)
    assert taken.id == to_tg and taken.delivery_state == SENDING
    assert taken.failure_reason == "" and "waiting" not in taken.meta


def test_mark_waiting_keeps_messages_queued_with_the_reason(desk: Desk) -> None:
    task = desk.say(desk.web, "v", "hi").task.id
    msg = desk.store.reply(task, desk.anna, "hello").id
    assert desk.store.mark_waiting([msg], "Paused by the supervisor.") == 1
    assert desk.store.mark_waiting([msg], "Paused by the supervisor.") == 0
    row = desk.store.get_message(msg)
    assert (row.delivery_state, row.failure_reason) == (QUEUED, "Paused by the supervisor.")


async def test_the_outbox_worker_marks_channels_it_does_not_serve_once(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1", "hi").task.id
    first = desk.store.reply(task, desk.anna, "one").id
    loop = asyncio.get_running_loop()
    events: list[Event] = []
    changed = asyncio.Event()

    def record(event: Event) -> None:  # from the committing / listening thread
        events.append(event)
        loop.call_soon_threadsafe(changed.set)

    async def until(predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not predicate():
                changed.clear()
                await changed.wait()

    def updated(mid: int) -> bool:
        return any(e.kind == ev.MESSAGE_UPDATED and e.message_id == mid for e in events)

    desk.store.bus.subscribe(record)
    worker = OutboxWorker(desk.store, {})  # runs no connector at all
    await worker.start()
    try:
        await until(lambda: updated(first))
        second = (await asyncio.to_thread(desk.store.reply, task, desk.anna, "two")).id
        await until(lambda: updated(second))
        sentinel = (await asyncio.to_thread(desk.store.reply, task, desk.anna, "three")).id
        await until(lambda: updated(sentinel))
    finally:
        await worker.stop()
    marked = [e.message_id for e in events
              if e.kind == ev.MESSAGE_UPDATED and e.data.get("waiting")]
    assert marked == [first, second, sentinel]  # each once, though the worker woke again
    assert "not running" in desk.store.get_message(second).failure_reason
