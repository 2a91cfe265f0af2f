"""Inbound messages per second: through the store and through the real webhook path.

    python -m bench.ingest_bench [--quick] [--seconds 10] [--connections 32] [--client wrk]
                                 [--db /tmp/big.db] [--json]

Every figure is a ratio against the floor measured in the same run: raw ``sqlite3``
inserting the same message rows, one transaction each, into the real schema (made by
``Store.open``, so the same indexes and any search triggers), with the store's own
pragmas (WAL, ``synchronous=FULL``: same durability) and, for reference, with
``synchronous=NORMAL`` (the anchors' 35k rows/s line).

* store: ``Store.ingest`` one message per call, ``Store.ingest_many`` in batches of 16
  (what group commit sees under load) and of 500 — the very ``Inbound`` the webhook
  stores (the benchmark's Telegram update parsed by the connector's parser: same text,
  same system data, same identity), into conversations already open;
* webhook: ``bench.gateway_runner`` in its own process — the real ``TelegramConnector``
  webhook route and the real group-commit writer over HTTP on 127.0.0.1 — loaded by
  ``wrk`` (Debian package; a Lua script POSTs unique ~600-byte updates) or, without it,
  by an aiohttp client in this process. Only 2xx-answered requests count, and the
  number of stored messages is checked against them. Group commit is "effective" when
  the runner made fewer commits than messages and beat one-commit-per-message ingest.
  The closed loop gives the peak rate (and its p99, which is queueing by construction);
  then an open loop (:mod:`bench.open_loop`) sends at **half that rate**, at a constant
  arrival rate, with latency measured from each request's scheduled time (issue 20's
  "p99 ≤ 50 ms at half the peak rate").

``--db PATH`` (issue 20: "on the 1M-message database"): the store paths and the
webhook run on ONE copy of that database (the store paths first, then the webhook),
so the floor and the webhook write into the same large tables and indexes. The raw
sqlite3 lines stay on a fresh file (they are a reference for the disk, not the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.gateway_runner import Runner
from bench.open_loop import load_open
from connectors.registry import policies
from connectors.telegram.parse import NewMessage, parse_update
from storage.inputs import Inbound
from storage.models import to_micros, utcnow
from storage.store import Store

TEXT = ("Здравствуйте! Где мой заказ? Жду уже неделю, курьер не пришёл, телефон не отвечает. "
        "Hello, my order has not arrived yet, could you please check the delivery status? ")
CHATS = 500


def inbound(channel_id: int, i: int, tag: str) -> Inbound:
    chat = str(1000 + i % CHATS)
    return Inbound(channel_id=channel_id, chat_id=chat, sender_id=chat, text=f"{TEXT}#{i}",
                   external_id=f"{tag}{i}", display_name="Иван Петров", username="ivan")


def fresh_store(tmp: Path, name: str, db: Path | None = None) -> Store:
    store = Store.open(str(db or tmp / f"{name}.db"), policies=policies())
    store.ensure_channel("telegram", "tg", None)
    return store


def webhook_inbound(channel_id: int, i: int) -> Inbound:
    """What the webhook stores for update ``i``: the same body, the connector's parser."""
    parsed = parse_update(json.loads(update_body(i)), channel_id)
    assert isinstance(parsed, NewMessage)
    return parsed.inbound


def copy_db(source: Path, tmp: Path) -> Path:
    """A private copy of ``source`` (and its WAL): benchmarks never write to the original.

    Each measured path gets a copy of its own, made just before it runs (the previous
    one deleted): a path that ran on the copy another had just written into inherited
    its write debt, e.g. the full-text index merging the thousands of one-message
    segments ``Store.ingest`` ×1 had left, which the webhook's open loop then paid for
    (bench/PROFILE.md §11)."""
    target = tmp / "big-copy.db"
    for old in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        old.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{target}-wal"))
    for copied in (target, Path(f"{target}-wal")):
        if copied.exists():
            _flush(copied)
    return target


def _flush(path: Path) -> None:
    """Write ``path``'s cached pages to the disk now: left dirty, a fresh copy's hundreds
    of megabytes were flushed by the first ``fsync`` of the file that SQLite ran in the
    measured run (a WAL checkpoint's), and the commits behind it waited (PROFILE.md §14)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def raw_floor(tmp: Path, n: int, synchronous: str, seconds: float) -> float:
    """rows/s of raw sqlite3 inserting message rows, one transaction (and commit) each
    (at most ``n`` rows or ``seconds``, whichever comes first)."""
    store = fresh_store(tmp, f"raw_{synchronous}")
    ch = store.channel_by_name("tg").id
    first = store.ingest(inbound(ch, 0, "seed"))
    task_id, contact_id, path = first.task.id, first.contact_id, store.db.database
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=1")
    sql = ('INSERT INTO "message" (task_id, kind, author_contact_id, text, created_at, channel_id, '
           "external_id, failure_reason, attempts, edited, meta) "
           "VALUES (?, 'inbound', ?, ?, ?, ?, ?, '', 0, 0, '{}')")
    now = to_micros(utcnow())
    started = time.perf_counter()
    deadline = started + seconds
    done = 0
    for i in range(n):
        conn.execute("BEGIN")
        conn.execute(sql, (task_id, contact_id, f"{TEXT}#{i}", now + i, ch, f"raw{i}"))
        conn.execute("COMMIT")
        done += 1
        if not done % 50 and time.perf_counter() > deadline:
            break
    rate = done / (time.perf_counter() - started)
    conn.close()
    return rate


def store_rate(tmp: Path, n: int, batch: int, seconds: float, db: Path | None = None) -> float:
    """messages/s through Store.ingest (batch 1) or Store.ingest_many(batch), for at most
    ``n`` messages or ``seconds``: the webhook's own Inbound (update ids of their own)."""
    store = fresh_store(tmp, f"store_{batch}", db)
    ch = store.channel_by_name("tg").id
    base = STORE_BASE + batch * 100_000_000  # distinct ids when runs share one database
    warm = [webhook_inbound(ch, base + i) for i in range(CHATS)]
    for k in range(0, CHATS, 100):  # conversations exist already, as on a running desk
        store.ingest_many(warm[k:k + 100])
    # Each batch is made (parsed) before its timer starts: only the store is timed.
    spent = 0.0
    done = 0
    for k in range(0, n, batch):
        items = [webhook_inbound(ch, base + CHATS + i) for i in range(k, min(k + batch, n))]
        t = time.perf_counter()
        if batch == 1:
            store.ingest(items[0])
        else:
            store.ingest_many(items)
        spent += time.perf_counter() - t
        done += len(items)
        if spent > seconds:
            break
    rate = done / spent
    store.close()
    return rate


def update_body(i: int) -> bytes:
    chat = 1000 + i % CHATS
    return json.dumps({"update_id": i, "message": {
        "message_id": i, "date": 1_700_000_000, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Иван", "last_name": "Петров",
                 "username": "ivan", "language_code": "ru"},
        "text": f"{TEXT}{TEXT[:200]}#{i}"}}, ensure_ascii=False).encode()


WRK_LUA = r"""
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local counter = 0
local secret = os.getenv("SB_SECRET")
local text = os.getenv("SB_TEXT")
request = function()
  counter = counter + 1
  local i = (tid + 1) * 100000000 + counter
  local chat = 1000 + (i % 500)
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":1700000000,' ..
    '"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Иван",' ..
    '"last_name":"Петров","username":"ivan","language_code":"ru"},"text":"%s#%d"}}',
    i, i, chat, chat, text, i)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = secret}, body)
end
"""


def load_wrk(runner: Runner, seconds: float, connections: int, tmp: Path) -> dict[str, Any]:
    script = tmp / "post.lua"
    script.write_text(WRK_LUA)
    env = dict(os.environ, SB_SECRET=runner.secret, SB_TEXT=TEXT + TEXT[:200])
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(int(seconds), 1)}s",
                          "--latency", "-s", str(script), runner.url],
                         capture_output=True, text=True, env=env, timeout=seconds + 60).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    elapsed = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    secs = float(elapsed.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[elapsed.group(2)]  # type: ignore[union-attr]
    ok = total - (int(bad.group(1)) if bad else 0)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else None
    return {"client": "wrk", "ok": ok, "rate": ok / secs, "p99_ms": p99_ms,
            "socket_errors": errors.group(1) if errors else ""}


async def load_aiohttp(runner: Runner, seconds: float, connections: int) -> dict[str, Any]:
    import aiohttp

    ok = failed = 0
    lat: list[float] = []
    counter = iter(range(1, 10**9))
    deadline = time.perf_counter() + seconds
    headers = {"X-Telegram-Bot-Api-Secret-Token": runner.secret,
               "Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok, failed
        while time.perf_counter() < deadline:
            body = update_body(next(counter))
            t = time.perf_counter()
            async with session.post(runner.url, data=body, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    ok += 1
                    lat.append(time.perf_counter() - t)
                else:
                    failed += 1

    started = time.perf_counter()
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    lat.sort()
    return {"client": "aiohttp", "ok": ok, "failed": failed,
            "rate": ok / (time.perf_counter() - started),
            "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None}


WARM_BASE = 2_000_000_000  # warm-up update ids: above both loaders' (a multiple of CHATS)
HALF_BASE = 1_000_000_000  # the half-rate open loop's update ids
STORE_BASE = 3_000_000_000  # the store paths' update ids (a multiple of CHATS)


async def warm_conversations(runner: Runner, chats: int) -> int:
    """One webhook per conversation before timing (like for like: the store paths
    are timed with their 500 conversations already open); returns how many stored."""
    import aiohttp

    headers = {"X-Telegram-Bot-Api-Secret-Token": runner.secret,
               "Content-Type": "application/json"}
    gate = asyncio.Semaphore(16)

    async def one(session: aiohttp.ClientSession, k: int) -> bool:
        async with gate, session.post(runner.url, data=update_body(WARM_BASE + k),
                                      headers=headers) as resp:
            await resp.read()
            return 200 <= resp.status < 300

    async with aiohttp.ClientSession() as session:
        return sum(await asyncio.gather(*(one(session, k) for k in range(chats))))


def count_inbound(db: Path) -> int:
    store = Store.open(str(db), policies=policies())
    stored = store.db.execute_sql("SELECT count(*) FROM message WHERE kind = 'inbound'").fetchone()[0]
    store.close()
    return int(stored)


def webhook_rate(tmp: Path, seconds: float, connections: int, use_wrk: bool,
                 warm: int = CHATS, db: Path | None = None) -> dict[str, Any]:
    """The peak (closed loop) and then the p99 at half of it (open loop), one server."""
    db = db or tmp / "webhook.db"
    before = count_inbound(db) if db.exists() else 0
    runner = Runner(db)
    try:
        warmed = asyncio.run(warm_conversations(runner, warm))
        if use_wrk:
            res = load_wrk(runner, seconds, connections, tmp)
        else:
            res = asyncio.run(load_aiohttp(runner, seconds, connections))
        headers = {"X-Telegram-Bot-Api-Secret-Token": runner.secret,
                   "Content-Type": "application/json"}
        half = asyncio.run(load_open(runner.url, headers, update_body, max(res["rate"] / 2, 1.0),
                                     seconds, HALF_BASE))
    finally:
        commits, messages = runner.stop()
    stored = count_inbound(db) - before
    res.update(commits=commits, messages=messages, stored=stored - warmed - half["ok"],
               warmed=warmed, half=half)
    return res


def run(quick: bool, seconds: float, connections: int, use_wrk: bool,
        big: Path | None = None) -> dict[str, Any]:
    load_start = os.getloadavg()[0]
    n, seconds = (300, 1.0) if quick else (200_000, seconds)
    with tempfile.TemporaryDirectory(prefix="sb-ingest-") as d:
        tmp = Path(d)
        def copy() -> Path | None:  # each path starts from the same database
            return copy_db(big, tmp) if big is not None else None

        floor = raw_floor(tmp, n, "FULL", seconds)
        floor_normal = raw_floor(tmp, n, "NORMAL", seconds)
        one = store_rate(tmp, n, 1, seconds, copy())
        b16 = store_rate(tmp, n, 16, seconds, copy())
        b500 = store_rate(tmp, n, 500, seconds, copy())
        hook = webhook_rate(tmp, seconds, connections, use_wrk, 20 if quick else CHATS, copy())
    effective = bool(hook["commits"]) and hook["commits"] < hook["messages"] and hook["rate"] > one
    return {
        "raw_full": floor, "raw_normal": floor_normal, "ingest": one, "ingest_many_16": b16,
        "ingest_many_500": b500, "webhook": hook,
        "ratios_vs_raw_full": {"ingest": one / floor, "ingest_many_16": b16 / floor,
                               "ingest_many_500": b500 / floor, "webhook": hook["rate"] / floor},
        "ratios_vs_raw_normal": {"webhook": hook["rate"] / floor_normal,
                                 "ingest_many_16": b16 / floor_normal},
        "group_commit_effective": effective,
        "avg_batch": hook["messages"] / hook["commits"] if hook["commits"] else None,
        "target_webhook_ratio": 0.25, "load": (load_start, os.getloadavg()[0]),
        "database": str(big) if big is not None else "fresh",
    }


def report(r: dict[str, Any]) -> str:
    h = r["webhook"]
    half = h["half"]
    lines = [
        f"1-minute load average at start / end: {r['load'][0]:.2f} / {r['load'][1]:.2f} "
        f"(2 cores); store paths and webhook on: {r['database']}",
        f"{'path':<44}{'msg/s':>10}{'÷raw FULL':>11}{'÷raw NORMAL':>13}",
        f"{'raw sqlite3, 1 row/tx, synchronous=FULL':<44}{r['raw_full']:>10,.0f}{1:>11.2f}"
        f"{r['raw_full'] / r['raw_normal']:>13.2f}",
        f"{'raw sqlite3, 1 row/tx, synchronous=NORMAL':<44}{r['raw_normal']:>10,.0f}"
        f"{r['raw_normal'] / r['raw_full']:>11.2f}{1:>13.2f}",
    ]
    for key, label in (("ingest", "Store.ingest, 1 per call"),
                       ("ingest_many_16", "Store.ingest_many, batches of 16"),
                       ("ingest_many_500", "Store.ingest_many, batches of 500")):
        lines.append(f"{label:<44}{r[key]:>10,.0f}{r[key] / r['raw_full']:>11.2f}"
                     f"{r[key] / r['raw_normal']:>13.2f}")
    label = f"webhook HTTP ({h['client']}), group commit"
    lines.append(f"{label:<44}{h['rate']:>10,.0f}{h['rate'] / r['raw_full']:>11.2f}"
                 f"{h['rate'] / r['raw_normal']:>13.2f}")
    lines.append(f"webhook: {h['ok']:,} answered 2xx, {h['stored']:,} stored, p99 "
                 f"{h['p99_ms'] or 0:.1f} ms; writer commits {h['commits']:,} for "
                 f"{h['messages']:,} messages (avg batch {r['avg_batch'] or 0:.1f}); group commit "
                 f"{'EFFECTIVE' if r['group_commit_effective'] else 'NOT effective'} (batches "
                 f"{'formed' if (r['avg_batch'] or 0) > 1.5 else 'did not form'}; effective "
                 f"means it also beat one commit per message)")
    lines.append(f"webhook at half the peak (open loop, {half['target_rate']:,.0f}/s scheduled, "
                 f"latency from the scheduled send): {half['ok']:,} of {half['sent']:,} 2xx, "
                 f"p50 {half['p50_ms'] or 0:.1f} ms, p99 {half['p99_ms'] or 0:.1f} ms, max "
                 f"{half['max_ms'] or 0:.1f} ms (sender fell {half['sender_late_ms']:.0f} ms "
                 f"behind at worst)")
    q = h["rate"] / r["ingest_many_500"]
    p99 = half["p99_ms"]
    lines.append(f"issue 20: webhook ÷ ingest_many×500 = {q:.2f} (target ≥ 0.6: "
                 f"{'MET' if q >= 0.6 else 'NOT MET'}); p99 at half the peak {p99 or 0:.1f} ms "
                 f"(target ≤ 50: {'MET' if p99 is not None and p99 <= 50 else 'NOT MET'})")
    worst = min(h["rate"] / r["raw_full"], h["rate"] / r["raw_normal"])
    lines.append(f"target webhook >= 25 % of raw single-insert sqlite3: "
                 f"{'MET' if worst >= 0.25 else 'NOT MET'} (worst ratio {worst:.2f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ingest_bench")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (for the smoke test)")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="how long each of the six measurements runs")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--client", choices=("auto", "wrk", "aiohttp"), default="auto")
    ap.add_argument("--db", type=Path, help="run the store paths and the webhook on a copy "
                    "of this database (the 1M-message one: python -m bench.generate)")
    ap.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    a = ap.parse_args(argv)
    use_wrk = a.client == "wrk" or (a.client == "auto" and shutil.which("wrk") is not None
                                    and not a.quick)
    result = run(a.quick, a.seconds, a.connections, use_wrk, a.db)
    print(report(result))
    if a.json:
        print(json.dumps(result))
    h = result["webhook"]
    if h["stored"] < h["ok"] or h["half"]["ok"] == 0:
        print("ERROR: fewer messages stored than requests answered 2xx", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
