"""Crash test: 2,000 webhooks, a sender that retries until 2xx, a gateway SIGKILLed.

Two gateways, each a real process killed with SIGKILL four times and restarted on
the same port while a sender with 16 connections delivers 2,000 messages, retrying
every request not answered 2xx (connection refused, reset, 5xx) as messengers do:

* ``runner``: ``bench.gateway_runner`` — the real Telegram webhook route and the real
  group-commit writer (the process the ingest benchmark loads);
* ``serve``: the real ``switchboard serve`` with a ``generic`` channel — the whole
  production gateway (HTTP server with its body cap, HMAC check, writer, outbox).

Afterwards exactly 2,000 messages are stored, each once: a 2xx is only ever given
after commit (nothing answered is lost) and ingest is idempotent on the channel's
message id (a retried, already-committed request is not stored twice).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.gateway_runner import Runner
from bench.ingest_bench import update_body
from connectors.generic.connector import SIGNATURE_HEADER, sign
from storage.store import Store

TOTAL = 2_000
KILLS_AT = (250, 700, 1_150, 1_600)  # acknowledged counts at which the gateway is killed
ROOT = Path(__file__).resolve().parents[2]
SECRET = "crash-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """``switchboard serve`` with one generic channel, as a killable subprocess."""

    def __init__(self, db: Path, port: int) -> None:
        config = db.parent / "config.yaml"
        if not config.exists():
            config.write_text(json.dumps({"operator": {"name": "Anna"}, "channels": [
                {"name": "api", "kind": "generic", "options": {"secret": SECRET}}]}))
            config.chmod(0o600)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "--config", str(config), "--db", str(db),
             "serve", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # it prints its addresses once it listens
            if "/hooks/api" in line:
                break
        else:
            raise RuntimeError("switchboard serve did not start")
        self.url = f"http://127.0.0.1:{port}/hooks/api"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=30)


def runner_request(gw: Any, i: int) -> tuple[bytes, dict[str, str]]:
    return update_body(i), {"X-Telegram-Bot-Api-Secret-Token": gw.secret,
                            "Content-Type": "application/json"}


def serve_request(gw: Any, i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": f"crash-{i}", "chat_id": f"c{i % 500}", "name": "Иван",
                       "text": f"Здравствуйте, заказ #{i}"}, ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}


async def deliver(start: Callable[[], Any], request: Callable[[Any, int], tuple[bytes, dict]]
                  ) -> tuple[int, int, int]:
    """Send everything, killing the gateway at KILLS_AT; returns (kills, retries, acks)."""
    gw = await asyncio.to_thread(start)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, TOTAL + 1):
        queue.put_nowait(i)
    acked = retries = kills = 0
    deadline = time.monotonic() + 240

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal acked, retries
        while not queue.empty():
            i = queue.get_nowait()
            while True:
                assert time.monotonic() < deadline, "delivery did not finish in time"
                body, headers = request(gw, i)
                try:
                    async with session.post(gw.url, data=body, headers=headers,
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
        nonlocal gw, kills
        for threshold in KILLS_AT:
            while acked < threshold:
                await asyncio.sleep(0.005)
            await asyncio.to_thread(gw.kill)
            kills += 1
            met = retries  # restart only once a sender has met the dead gateway
            while retries == met:
                assert time.monotonic() < deadline, "no sender noticed the killed gateway"
                await asyncio.sleep(0.005)
            gw = await asyncio.to_thread(start)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as session:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(sender(session) for _ in range(16)))
        await kill_task
    await asyncio.to_thread(gw.stop)
    return kills, retries, acked


@pytest.mark.slow
@pytest.mark.parametrize("gateway", ["runner", "serve"])
async def test_sigkill_loses_nothing_and_stores_nothing_twice(tmp_path: Path, gateway: str) -> None:
    db, port = tmp_path / "crash.db", free_port()
    if gateway == "runner":
        kills, retries, acked = await deliver(lambda: Runner(db, 0.003, port), runner_request)
        expected = {f"{1000 + i % 500}:{i}" for i in range(1, TOTAL + 1)}
    else:
        kills, retries, acked = await deliver(lambda: Serve(db, port), serve_request)
        expected = {f"crash-{i}" for i in range(1, TOTAL + 1)}
    assert kills == len(KILLS_AT)
    assert acked == TOTAL
    assert retries > 0, "the kills never interrupted a request: the test proved nothing"
    store = Store.open(str(db))
    try:
        rows = store.db.execute_sql(
            "SELECT external_id, text FROM message WHERE kind = 'inbound'").fetchall()
    finally:
        store.close()
    ids = [r[0] for r in rows]
    assert len(rows) == TOTAL and len(set(ids)) == TOTAL
    assert set(ids) == expected
    suffixes = sorted(int(text.rsplit("#", 1)[1]) for _eid, text in rows)
    assert suffixes == list(range(1, TOTAL + 1))
