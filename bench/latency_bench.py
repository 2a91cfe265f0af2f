"""Webhook request → message visible in another console: p50 / p99.

    python -m bench.latency_bench [--quick] [--messages 1000] [--rate 50] [--pg URL]

"Visible" means what a console does when the store tells it something changed: the
subscriber receives ``message.stored`` on ``store.bus``, hops to a worker thread (as the
console's thread workers do) and reads the message with ``store.get_message``. The
clock runs from just before the client sends the webhook until that read returns.

* SQLite: the store's change events are in-process, so a console sees webhooks of the
  gateway it hosts; the server (the real Telegram webhook route + group-commit writer,
  ``bench.gateway_runner.start_gateway``) and the subscriber share the process.
* PostgreSQL (``--pg postgresql://…``, a new or bench database): the gateway runs in its
  own process (``bench.gateway_runner``) and the "other console" is a second
  ``Store`` in this process receiving the events over LISTEN/NOTIFY.

Load: ``--rate`` requests per second, several in flight, answered 2xx only after commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

from bench.gateway_runner import start_gateway
from bench.ingest_bench import Runner, update_body
from connectors.registry import policies
from storage.events import MESSAGE_STORED, Event
from storage.store import Store

TARGET_P99_MS = 250.0
TARGET_RATIO = 5.0  # issue 20: visible p99 ≤ 5× the bare round trip's


class Watcher:
    """The other console: subscribed to the bus, reads each new message in a worker."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sent: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self.answered: dict[int, float] = {}  # the bare round trip: 2xx answer read
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="console-worker")
        self.lock = threading.Lock()
        self.unsubscribe = store.bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind == MESSAGE_STORED and event.message_id is not None \
                and event.data.get("message_kind") == "inbound":
            self.pool.submit(self._read, event.message_id)

    def _read(self, message_id: int) -> None:
        row = self.store.get_message(message_id)
        now = time.monotonic()
        m = re.search(r"#(\d+)$", row.text)
        if m:
            with self.lock:
                self.seen.setdefault(int(m.group(1)), now)

    def close(self) -> None:
        self.unsubscribe()
        self.pool.shutdown(wait=True)


async def send_all(url: str, secret: str, watcher: Watcher, n: int, rate: float,
                   first: int) -> int:
    """Send ``n`` webhooks at ``rate``/s; returns how many were answered 2xx."""
    ok = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal ok
        body = update_body(i)
        watcher.sent[i] = time.monotonic()
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            ok += 200 <= resp.status < 300
            watcher.answered[i] = time.monotonic()

    async with aiohttp.ClientSession() as session:
        tasks, start = [], time.monotonic()
        for k in range(n):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, first + k)))
        await asyncio.gather(*tasks)
    return ok


def percentiles(watcher: Watcher, n: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while len(watcher.seen) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    lat = sorted((watcher.seen[i] - watcher.sent[i]) * 1000 for i in watcher.seen
                 if i in watcher.sent)
    trip = sorted((watcher.answered[i] - watcher.sent[i]) * 1000 for i in watcher.answered
                  if i in watcher.sent)
    rt = {"rt_p50_ms": trip[len(trip) // 2] if trip else None,
          "rt_p99_ms": trip[min(len(trip) - 1, int(len(trip) * 0.99))] if trip else None}
    if not lat:
        return {"seen": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, **rt,
                "ratio_p99": None}
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return {"seen": len(lat), "p50_ms": lat[len(lat) // 2], "p99_ms": p99, "max_ms": lat[-1],
            **rt, "ratio_p99": p99 / rt["rt_p99_ms"] if rt["rt_p99_ms"] else None}


async def sqlite_run(n: int, rate: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sb-latency-") as d:
        store = await asyncio.to_thread(Store.open, str(Path(d) / "latency.db"),
                                        policies=policies())
        gw = await start_gateway(store)
        watcher = Watcher(store)
        try:
            ok = await send_all(gw.url, gw.secret, watcher, n, rate, 1)
            res = await asyncio.to_thread(percentiles, watcher, n)
        finally:
            watcher.close()
            await gw.close()
            await asyncio.to_thread(store.close)
    return {"backend": "sqlite", "sent": n, "ok": ok, **res}


async def pg_run(url: str, n: int, rate: float) -> dict[str, Any]:
    runner = await asyncio.to_thread(Runner, url)  # type: ignore[arg-type]
    store = await asyncio.to_thread(Store.open, url, policies=policies())
    watcher = Watcher(store)
    first = int(time.time() * 1000) % 10**9 * 1000  # unique ids when the database is reused
    try:
        ok = await send_all(runner.url, runner.secret, watcher, n, rate, first)
        res = await asyncio.to_thread(percentiles, watcher, n)
    finally:
        watcher.close()
        await asyncio.to_thread(runner.stop)
        await asyncio.to_thread(store.close)
    return {"backend": "postgresql", "sent": n, "ok": ok, **res}


def report(r: dict[str, Any]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"
    met = r["p99_ms"] is not None and r["p99_ms"] <= TARGET_P99_MS and r["seen"] == r["sent"]
    return (f"{r['backend']}: {r['sent']} webhooks at {r['rate']:.0f}/s, {r['ok']} answered 2xx, "
            f"{r['seen']} seen by the other console; p50 {ms(r['p50_ms'])} ms, p99 "
            f"{ms(r['p99_ms'])} ms, max {ms(r['max_ms'])} ms; bare webhook round trip p50 "
            f"{ms(r['rt_p50_ms'])} ms, p99 {ms(r['rt_p99_ms'])} ms; visible ÷ round trip at "
            f"p99 {r['ratio_p99'] or 0:.2f} (target ≤ {TARGET_RATIO:.0f}) (load {r['load']:.2f}); "
            f"target p99 <= {TARGET_P99_MS:.0f} ms: {'MET' if met else 'NOT MET'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.latency_bench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0, help="webhooks per second")
    ap.add_argument("--pg", help="also measure PostgreSQL across processes at this URL")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    n = 30 if a.quick else a.messages
    rate = 100.0 if a.quick else a.rate
    results = [asyncio.run(sqlite_run(n, rate))]
    if a.pg:
        results.append(asyncio.run(pg_run(a.pg, n, rate)))
    for r in results:
        r.update(rate=rate, load=os.getloadavg()[0])
        print(report(r))
    if a.json:
        print(json.dumps(results))
    return 0 if all(r["seen"] == r["sent"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
