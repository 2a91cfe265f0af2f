"""Crash test for the outbox: 500 queued replies per channel, ``switchboard serve`` SIGKILLed.

The real ``switchboard serve`` runs as a subprocess with two channels pointing at fake
servers in this test's event loop:

* ``api`` (kind ``generic``): a receiver that honours ``Idempotency-Key`` — a repeated
  key is a no-op answered like the first time. After the kills every reply must have
  been *delivered* exactly once (one distinct key per reply; repeats of a key are the
  idempotent retries the protocol is for, and are counted).
* ``tg`` (kind ``telegram``): ``tests/connectors/fake_telegram.py``. Telegram has no
  send idempotency, so a reply on the wire when the process died may be sent again:
  every reply must arrive at least once, and the doubles are counted and reported
  (bounded by the sends that can be in flight at a kill).

500 replies per channel (100 tasks x 5, to exercise per-task order too) are queued in
the SQLite file before the first start; the gateway is killed with SIGKILL at three
points while delivering and restarted; at the end every reply is ``sent`` in the
database.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from storage.inputs import Inbound
from storage.store import Store
from tests.connectors.fake_telegram import DEFAULT_TOKEN, FakeTelegram

TASKS = 100
PER_TASK = 5
TOTAL = TASKS * PER_TASK
KILLS_AT = (150, 450, 750)  # receipts (both channels together) at which serve is killed
ROOT = Path(__file__).resolve().parents[2]


class IdempotentReceiver:
    """The far end of the generic channel: records each Idempotency-Key's first body."""

    def __init__(self) -> None:
        self.first: dict[str, dict] = {}
        self.repeats: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/send", self.handle)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/send"
        return self.url

    async def handle(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        body = await request.json()
        await asyncio.sleep(0.01)  # keep sends in flight so a kill can catch them
        if not key:
            return web.json_response({"error": "no Idempotency-Key"}, status=400)
        if key in self.first:
            self.repeats[key] += 1  # a no-op: answered like the first time
        else:
            self.first[key] = body
        return web.json_response({"id": f"r-{key}"})

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db: Path, fake: FakeTelegram) -> None:
    """Channels, 100 conversations each, and 5 queued replies per conversation."""
    store = Store.open(str(db))
    try:
        op = store.ensure_operator("Anna", "operator")
        for kind, name in (("generic", "api"), ("telegram", "tg")):
            ch = store.ensure_channel(kind, name, {})
            for t in range(TASKS):
                chat = 5_000_000 + t
                external = f"m-{chat}"
                if kind == "telegram":
                    # The client's message takes its id from the fake's per-chat counter,
                    # as in Telegram, where both directions share one id sequence per chat.
                    fake.chats[chat] = {"id": chat, "type": "private", "first_name": "Клиент"}
                    msg = fake.message("Здравствуйте", user=fake.user(chat), chat_id=chat)
                    external = f"{chat}:{msg['message_id']}"
                r = store.ingest(Inbound(channel_id=ch.id, chat_id=str(chat), sender_id=str(chat),
                                         text="Здравствуйте", external_id=external))
                for k in range(PER_TASK):
                    store.reply(r.task.id, op.id, f"{name} reply {t}.{k} — ответ")
    finally:
        store.close()


def sent_in_database(db: Path) -> int:
    """How many outbound messages the database holds as sent (a read-only connection)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM message WHERE kind = 'outbound' "
                                "AND delivery_state = 'sent'").fetchone()[0])
    finally:
        conn.close()


def write_config(path: Path, send_url: str, api_base: str) -> None:
    config = {
        "operator": {"name": "Anna", "role": "operator"},
        "channels": [
            {"name": "api", "kind": "generic", "options": {"secret": "s3cr3t-outbox",
                                                           "send_url": send_url}},
            {"name": "tg", "kind": "telegram",
             "options": {"token": DEFAULT_TOKEN, "api_base": api_base, "poll_timeout": 1}},
        ],
    }
    path.write_text(json.dumps(config, ensure_ascii=False))  # JSON is YAML
    path.chmod(0o600)


def start_serve(config: Path, db: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(db.parent / "serve.log", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--config", str(config), "--db", str(db),
         "serve", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))


@pytest.mark.slow
async def test_sigkill_delivers_every_reply(tmp_path: Path) -> None:
    fake = FakeTelegram()
    receiver = IdempotentReceiver()
    api_base = await fake.start()
    send_url = await receiver.start()
    db, config, port = tmp_path / "outbox.db", tmp_path / "config.yaml", free_port()
    await asyncio.to_thread(prepare, db, fake)
    write_config(config, send_url, api_base)

    def tg_texts() -> list[str]:
        return [m["text"] for m in fake.sent if "text" in m]

    def receipts() -> int:
        return len(receiver.first) + len(set(tg_texts()))

    def stalled() -> str:
        store = Store.open(str(db))
        try:
            rows = store.db.execute_sql(
                "SELECT channel_id, delivery_state, count(*) FROM message WHERE kind = 'outbound' "
                "GROUP BY 1, 2").fetchall()
        finally:
            store.close()
        log = (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        return (f"stalled: generic {len(receiver.first)}, telegram {len(set(tg_texts()))}; "
                f"database {rows}; serve log tail:\n{log}")

    proc = start_serve(config, db, port)
    kills = 0
    deadline = time.monotonic() + 60
    try:
        for threshold in KILLS_AT:
            while receipts() < threshold:
                assert time.monotonic() < deadline, stalled()
                assert proc.poll() is None, "switchboard serve exited on its own"
                await asyncio.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait)
            kills += 1
            proc = start_serve(config, db, port)
        while receipts() < 2 * TOTAL:
            assert time.monotonic() < deadline, stalled()
            await asyncio.sleep(0.02)
        # Every reply arrived; wait for the last mark_sent to commit, then stop cleanly.
        while await asyncio.to_thread(sent_in_database, db) < 2 * TOTAL:
            assert time.monotonic() < deadline, stalled()
            assert proc.poll() is None, "switchboard serve exited on its own"
            await asyncio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 30)
        except TimeoutError:
            proc.kill()
        await fake.close()
        await receiver.close()

    assert kills == len(KILLS_AT)
    expected = {name: {f"{name} reply {t}.{k} — ответ" for t in range(TASKS)
                       for k in range(PER_TASK)} for name in ("api", "tg")}
    # Idempotent channel: each reply delivered once (a distinct key per reply).
    api_texts = [body["text"] for body in receiver.first.values()]
    assert sorted(api_texts) == sorted(expected["api"])
    # Telegram: each reply at least once; doubles are what no idempotency key can stop.
    tg = Counter(tg_texts())
    assert set(tg) == expected["tg"]
    doubles = sum(n - 1 for n in tg.values())
    assert doubles <= kills * 16, "more doubles than sends that could be in flight"
    store = Store.open(str(db))
    try:
        states = Counter(r[0] for r in store.db.execute_sql(
            "SELECT delivery_state FROM message WHERE kind = 'outbound'").fetchall())
        order = store.db.execute_sql(
            "SELECT task_id, text FROM message WHERE kind = 'outbound' ORDER BY id").fetchall()
    finally:
        store.close()
    assert states == Counter({"sent": 2 * TOTAL}), states
    # Per-task order on the idempotent channel: first deliveries arrive in reply order.
    api_order = [b["text"] for b in receiver.first.values()]
    for t in range(TASKS):
        mine = [x for x in api_order if x.startswith(f"api reply {t}.")]
        assert mine == sorted(mine), f"task {t} delivered out of order: {mine}"
    assert order  # the rows exist
    print(f"\noutbox crash test: {kills} SIGKILLs; generic channel: {TOTAL} delivered once, "
          f"{sum(receiver.repeats.values())} idempotent repeats; telegram: {TOTAL} delivered, "
          f"{doubles} possible doubles (no send idempotency in the Bot API)")


async def test_reply_id_equal_to_an_inbound_id_still_marks_sent(tmp_path: Path) -> None:
    """A generic receiver chooses its own ids; one may equal a client message's id."""
    import aiohttp

    from connectors.base import ChannelSpec
    from connectors.generic.connector import GenericConnector
    from connectors.outbox import OutboxWorker

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": "m-1"})  # the same id the client's message had

    app = web.Application()
    app.router.add_post("/send", answer)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/send"
    store = Store.open(str(tmp_path / "collide.db"))
    try:
        op = store.ensure_operator("Anna", "operator")
        ch = store.ensure_channel("generic", "api", {})
        r = store.ingest(Inbound(channel_id=ch.id, chat_id="c1", sender_id="c1", text="hi",
                                 external_id="m-1"))
        reply = store.reply(r.task.id, op.id, "answer")
        connector = GenericConnector(ChannelSpec(ch.id, "api", "generic", options={
            "secret": "s", "send_url": url}), store, None)  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as session:
            await connector.start(session)
            worker = OutboxWorker(store, {ch.id: connector}, send_timeout=1.0)
            await worker.start()
            for _ in range(100):
                if store.get_message(reply.id).delivery_state not in ("queued", "sending"):
                    break
                await asyncio.sleep(0.02)
            await worker.stop()
        assert store.get_message(reply.id).delivery_state == "sent"
    finally:
        store.close()
        await runner.cleanup()
