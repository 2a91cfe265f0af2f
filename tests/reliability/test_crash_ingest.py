"""Crash test: 2,000 webhooks, a sender that retries until 2xx, a gateway SIGKILLed.

The gateway is a real process (``bench.gateway_runner``: the real Telegram webhook
route and group-commit writer over HTTP on loopback, SQLite file with the store's own
pragmas). A sender with 16 connections delivers 2,000 updates, retrying every request
not answered 2xx (connection refused, reset, 5xx), as Telegram does. While it runs
the gateway is killed with SIGKILL four times and restarted on the same port.
Afterwards exactly 2,000 messages are stored, each once: a 2xx is only ever given
after commit (nothing answered is lost) and ingest is idempotent on the update's
message key (a retried, already-committed request is not stored twice).
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from bench.gateway_runner import Runner
from bench.ingest_bench import update_body
from storage.store import Store

TOTAL = 2_000
KILLS_AT = (250, 700, 1_150, 1_600)  # acknowledged counts at which the gateway is killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def deliver(db: Path) -> tuple[int, int, int]:
    """Send everything, killing the gateway at KILLS_AT; returns (kills, retries, acks)."""
    port = free_port()
    runner = await asyncio.to_thread(Runner, db, 0.003, port)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, TOTAL + 1):
        queue.put_nowait(i)
    acked = retries = kills = 0
    restarting = asyncio.Lock()
    deadline = time.monotonic() + 240

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal acked, retries
        while not queue.empty():
            i = queue.get_nowait()
            while True:
                assert time.monotonic() < deadline, "delivery did not finish in time"
                headers = {"X-Telegram-Bot-Api-Secret-Token": runner.secret,
                           "Content-Type": "application/json"}
                try:
                    async with session.post(runner.url, data=update_body(i), headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=10)) as resp:
                        await resp.read()
                        if 200 <= resp.status < 300:
                            acked += 1
                            break
                        assert resp.status >= 500, f"request {i} refused: {resp.status}"
                except (TimeoutError, aiohttp.ClientError, ConnectionError):
                    pass
                retries += 1
                await asyncio.sleep(0.02)

    async def killer() -> None:
        nonlocal runner, kills
        for threshold in KILLS_AT:
            while acked < threshold:
                await asyncio.sleep(0.005)
            async with restarting:
                await asyncio.to_thread(runner.kill)
                kills += 1
                await asyncio.sleep(0.1)  # the sender meets a closed port for a while
                runner = await asyncio.to_thread(Runner, db, 0.003, port)

    connector = aiohttp.TCPConnector(limit=16, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(sender(session) for _ in range(16)))
        await kill_task
    await asyncio.to_thread(runner.stop)
    return kills, retries, acked


@pytest.mark.slow
async def test_sigkill_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    kills, retries, acked = await deliver(db)
    assert kills == len(KILLS_AT)
    assert acked == TOTAL
    assert retries > 0, "the kills never interrupted a request: the test proved nothing"
    store = Store.open(str(db))
    try:
        rows = store.db.execute_sql(
            "SELECT external_id, text FROM message WHERE kind = 'inbound'").fetchall()
    finally:
        store.close()
    assert len(rows) == TOTAL
    ids = [r[0] for r in rows]
    assert len(set(ids)) == TOTAL
    expected = {f"{1000 + i % 500}:{i}" for i in range(1, TOTAL + 1)}
    assert set(ids) == expected
    suffixes = sorted(int(text.rsplit("#", 1)[1]) for _eid, text in rows)
    assert suffixes == list(range(1, TOTAL + 1))
