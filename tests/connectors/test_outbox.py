"""The outbox worker against a real fake receiver (``fake_channel.FakeChannelServer``).

Covers: delivery and ``sent``; order within a task; 429 honouring Retry-After; 5xx and
connection errors retried; permanent errors failed with the channel's reason and
retryable by hand; waking on the store's events (no polling); recovery of messages
left in ``sending``; and a gateway process killed with SIGKILL mid-delivery and
restarted, which must deliver each message exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.gateway import Gateway
from connectors.generic.connector import idempotency_key
from storage.models import FAILED, QUEUED, SENDING, SENT
from storage.rows import MessageRow
from storage.store import Store
from tests.connectors.fake_channel import FakeChannelServer
from tests.connectors.gateway_helpers import SECRET, eventually, inbound, running, spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeChannelServer]:
    server = FakeChannelServer(secret=SECRET)
    await server.start()
    yield server
    await server.stop()


def setup_chat(store: Store, channel_id: int, chat: str = "c-1") -> tuple[int, int]:
    """A task in the channel (a client wrote) and an operator; returns (task_id, operator_id)."""
    result = store.ingest(inbound(channel_id, chat, "Здравствуйте", f"in-{chat}"))
    operator = store.ensure_operator("Anna", "operator")
    return result.task.id, operator.id


async def settled(gateway: Gateway) -> None:
    """Until the outbox worker (started once the gateway holds the outbox lease) is idle,
    blocked waiting for an event with nothing claimable."""
    await asyncio.wait_for(gateway.outbox.waiting.wait(), timeout=10)


def state(store: Store, message: MessageRow) -> MessageRow:
    return store.get_message(message.id)


async def test_reply_is_delivered_and_marked_sent(store: Store, fake: FakeChannelServer) -> None:
    crm = spec(store, "generic", "crm", secret=SECRET, send_url=fake.url)
    task_id, op = setup_chat(store, crm.id)
    async with running(store, [crm]):
        reply = store.reply(task_id, op, "Ответ оператора")
        await fake.wait_for(1)
        done = await eventually(lambda: state(store, reply).delivery_state == SENT)
    assert done
    row = state(store, reply)
    key = idempotency_key(reply.id)
    assert row.external_id == f"fake-{key}"
    assert fake.accepted[key]["text"] == "Ответ оператора"
    assert fake.accepted[key]["chat_id"] == "c-1"


async def test_wakes_on_event_not_on_a_timer(sqlite_store: Store, fake: FakeChannelServer) -> None:
    """The worker idles (its safety re-check is minutes away); a reply wakes it at once."""
    crm = spec(sqlite_store, "generic", "crm", secret=SECRET, send_url=fake.url)
    task_id, op = setup_chat(sqlite_store, crm.id)
    async with running(sqlite_store, [crm]) as gateway:
        await settled(gateway)
        started = time.monotonic()
        sqlite_store.reply(task_id, op, "now")
        await fake.wait_for(1, timeout=2)
        assert time.monotonic() - started < 1.0


async def test_order_is_kept_within_a_task(sqlite_store: Store, fake: FakeChannelServer) -> None:
    crm = spec(sqlite_store, "generic", "crm", secret=SECRET, send_url=fake.url)
    fake.delay = 0.03
    t1, op = setup_chat(sqlite_store, crm.id, "c-1")
    t2, _ = setup_chat(sqlite_store, crm.id, "c-2")
    fake.fail_next(503, '{"error": "try later"}')  # the first one sent is retried
    expected: dict[str, list[str]] = {"c-1": [], "c-2": []}
    for i in range(6):
        for task_id, chat in ((t1, "c-1"), (t2, "c-2")):
            sqlite_store.reply(task_id, op, f"{chat}#{i}")
            expected[chat].append(f"{chat}#{i}")
    async with running(sqlite_store, [crm]):
        await fake.wait_for(12)
    for chat in ("c-1", "c-2"):
        got = [r.body["text"] for r in fake.requests if r.status == 200 and r.body["chat_id"] == chat]
        assert got == expected[chat]
        # never two of one task in flight: each request starts after the previous answered
        times = [r.at for r in fake.requests if r.body.get("chat_id") == chat]
        assert times == sorted(times)
    failed_first = fake.requests[0]
    assert failed_first.status == 503
    assert fake.accepted[failed_first.key]  # and it was delivered on the retry


async def test_429_is_retried_after_its_retry_after(sqlite_store: Store,
                                                    fake: FakeChannelServer) -> None:
    crm = spec(sqlite_store, "generic", "crm", secret=SECRET, send_url=fake.url)
    task_id, op = setup_chat(sqlite_store, crm.id)
    fake.fail_next(429, '{"error": "Too Many Requests: retry after 1"}', {"Retry-After": "1"})
    async with running(sqlite_store, [crm]):
        reply = sqlite_store.reply(task_id, op, "hello")
        await eventually(lambda: state(sqlite_store, reply).attempts == 1
                         and state(sqlite_store, reply).delivery_state == QUEUED)
        waiting = state(sqlite_store, reply)
        assert "Too Many Requests" in waiting.failure_reason
        await fake.wait_for(1, timeout=5)
    first, second = fake.requests[0], fake.requests[1]
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.95  # honoured: not retried before the second passed
    assert second.at - first.at < 2.5
    final = state(sqlite_store, reply)
    assert final.delivery_state == SENT and final.failure_reason == "" and final.attempts == 2


async def test_permanent_error_fails_with_the_channels_reason(store: Store,
                                                              fake: FakeChannelServer) -> None:
    crm = spec(store, "generic", "crm", secret=SECRET, send_url=fake.url)
    task_id, op = setup_chat(store, crm.id)
    fake.fail_next(403, '{"error": "Forbidden: bot was blocked by the user"}')
    async with running(store, [crm]):
        blocked = store.reply(task_id, op, "first")
        after = store.reply(task_id, op, "second: not held back by a failed one")
        await fake.wait_for(1)
        await eventually(lambda: state(store, blocked).delivery_state == FAILED)
        row = state(store, blocked)
        assert row.failure_reason == "403: Forbidden: bot was blocked by the user"
        assert row.attempts == 1  # permanent: not retried by itself
        await eventually(lambda: state(store, after).delivery_state == SENT)
        store.retry(blocked.id, op)  # by hand
        await fake.wait_for(2)
        await eventually(lambda: state(store, blocked).delivery_state == SENT)
    assert [r.body["text"] for r in fake.requests] == ["first", "second: not held back by a "
                                                       "failed one", "first"]


async def test_connection_errors_are_transient(sqlite_store: Store) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    crm = spec(sqlite_store, "generic", "crm", secret=SECRET,
               send_url=f"http://127.0.0.1:{dead}/send")
    task_id, op = setup_chat(sqlite_store, crm.id)
    async with running(sqlite_store, [crm]):
        reply = sqlite_store.reply(task_id, op, "hello")
        await eventually(lambda: state(sqlite_store, reply).attempts >= 2)
    row = state(sqlite_store, reply)
    assert row.delivery_state in (QUEUED, SENDING)
    assert row.failure_reason  # says why it waits


async def test_messages_left_sending_are_recovered_at_start(sqlite_store: Store,
                                                            fake: FakeChannelServer) -> None:
    crm = spec(sqlite_store, "generic", "crm", secret=SECRET, send_url=fake.url)
    task_id, op = setup_chat(sqlite_store, crm.id)
    reply = sqlite_store.reply(task_id, op, "was in flight when we died")
    [claimed] = sqlite_store.claim_outbox(10)  # a previous process claimed it and died
    assert claimed.message_id == reply.id and state(sqlite_store, reply).delivery_state == SENDING
    async with running(sqlite_store, [crm]):
        await fake.wait_for(1)
        await eventually(lambda: state(sqlite_store, reply).delivery_state == SENT)
    assert len(fake.requests) == 1


@pytest.mark.postgres
async def test_team_gateway_wakes_on_another_process_reply(pg_url: str,
                                                           fake: FakeChannelServer) -> None:
    """``switchboard serve`` and a console are separate processes on PostgreSQL: a reply
    committed through another connection reaches the worker through LISTEN/NOTIFY."""
    gateway_store = Store.open(pg_url)
    console_store = Store.open(pg_url)
    try:
        crm = spec(gateway_store, "generic", "crm", secret=SECRET, send_url=fake.url)
        task_id, op = setup_chat(console_store, crm.id)
        async with running(gateway_store, [crm]) as gateway:
            await settled(gateway)
            started = time.monotonic()
            console_store.reply(task_id, op, "from the console")
            await fake.wait_for(1, timeout=3)
            assert time.monotonic() - started < 2.0
    finally:
        gateway_store.close()
        console_store.close()


# ---- a real process, SIGKILLed mid-delivery -------------------------------------------
async def _serve(config: Path, db: Path) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console.cli", "--config", str(config), "--db", str(db),
        "serve", "--port", "0", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        if not line:
            err = await proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"serve exited: {err.decode()}")
        if b"Serving" in line:
            return proc


async def test_killed_gateway_restarts_and_delivers_each_exactly_once(
        tmp_path: Path, fake: FakeChannelServer) -> None:
    db = tmp_path / "serve.db"
    config = tmp_path / "config.yaml"
    config.write_text(f"""
operator: {{name: Anna}}
channels:
  - name: crm
    kind: generic
    options: {{secret: {SECRET}, send_url: "{fake.url}"}}
""", encoding="utf-8")
    config.chmod(0o600)
    store = Store.open(str(db))
    try:
        crm = spec(store, "generic", "crm")
        tasks = [setup_chat(store, crm.id, f"c-{n}") for n in range(3)]
        replies = {f"c-{n}": [store.reply(task_id, op, f"c-{n} reply {i}").id for i in range(4)]
                   for n, (task_id, op) in enumerate(tasks)}
        fake.hold_after = 2  # the third delivery is processed but never answered

        proc = await _serve(config, db)
        await fake.wait_for(3, timeout=20)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        mid_flight = [m for ids in replies.values() for m in ids
                      if store.get_message(m).delivery_state == SENDING]
        assert mid_flight, "the kill should have left messages in sending"
        assert len(fake.accepted) < 12

        fake.release()
        proc = await _serve(config, db)
        try:
            await fake.wait_for(12, timeout=30)
            await eventually(lambda: all(store.get_message(m).delivery_state == SENT
                                         for ids in replies.values() for m in ids), timeout=15)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        store.close()
    delivered_ids = [body["id"] for body in fake.accepted.values()]
    assert sorted(delivered_ids) == sorted(m for ids in replies.values() for m in ids)
    assert len(set(delivered_ids)) == len(delivered_ids) == 12  # exactly once each
    for chat, ids in replies.items():  # and in order within each task
        assert [b["id"] for b in fake.accepted.values() if b["chat_id"] == chat] == ids


async def test_telegram_through_the_gateway_403_fails_with_telegrams_description(
        sqlite_store: Store) -> None:
    """The whole path with the Telegram connector under the gateway: a client writes
    (long polling), the operator replies (outbox → sendMessage); a blocked bot's 403
    ends as failed with Telegram's own description, a 429 waits its retry_after."""
    from tests.connectors.fake_telegram import FakeTelegram
    from tests.connectors.fake_telegram_wire import DEFAULT_TOKEN

    fake_tg = FakeTelegram()
    base = await fake_tg.start()
    try:
        tg = spec(sqlite_store, "telegram", "bot", token=DEFAULT_TOKEN, api_base=base,
                  mode="polling")
        async with running(sqlite_store, [tg]) as gw:
            fake_tg.push_message("Привет, бот")
            task = (await eventually(lambda: sqlite_store.list_tasks().items))[0]
            op = sqlite_store.ensure_operator("Anna", "operator")
            fake_tg.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            first = sqlite_store.reply(task.id, op.id, "первый ответ")
            await eventually(lambda: state(sqlite_store, first).delivery_state == SENT, timeout=5)
            calls = fake_tg.calls_to("sendMessage")
            assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.95
            fake_tg.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
            second = sqlite_store.reply(task.id, op.id, "второй ответ")
            await eventually(lambda: state(sqlite_store, second).delivery_state == FAILED)
            assert "Forbidden: bot was blocked by the user" in state(sqlite_store,
                                                                      second).failure_reason
            assert gw.health()["bot"][0] == "ok"
    finally:
        await fake_tg.close()
