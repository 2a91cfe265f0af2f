"""Team mode: N headless consoles beside one ``switchboard serve`` — webhook → visible in
every console (p99, as a ratio against one console), and idle CPU per console.

    python -m bench.team_bench [--quick] [--rate 50] [--seconds 20] [--idle 10]
                               [--sqlite-consoles 5] [--pg URL] [--pg-consoles 20]

A *console* here is a process with a store and an event subscriber and no UI
(``python -m bench.team_bench console --db URL``): on ``message.stored`` it reads the
message in a worker thread (as the console's workers do) and prints when it did. The
gateway is a real ``switchboard serve`` process with one generic (HMAC webhook)
channel; the load is ``--rate`` signed webhooks a second for ``--seconds``. A
message's latency is from just before its webhook is sent until the *last* console
has read it (``CLOCK_MONOTONIC``, shared by the processes of one machine).

Each backend is measured twice in one run, with one console and with N, and the p99
ratio N : 1 is reported. Then every console idles for ``--idle`` seconds and its CPU
time (``/proc/<pid>/stat``) over that window is reported as a share of one core.
SQLite: a new file for each measurement, the consoles wake through the file's
cross-process wake-up. PostgreSQL (``--pg``): a new or bench database, LISTEN/NOTIFY.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "team-bench-secret"
CHANNEL = "api"
_SEEN = re.compile(r"^SEEN (\d+) ([0-9.]+)$")


# ---- the headless console (a child process) ----------------------------------------------
def console_main(url: str) -> int:
    """Subscribe, read every new inbound message in a worker, print ``SEEN n t``."""
    from storage.events import MESSAGE_STORED, Event
    from storage.store import Store

    store = Store.open(url)
    pool = ThreadPoolExecutor(2, thread_name_prefix="console-worker")
    out = threading.Lock()

    def read(message_id: int) -> None:
        row = store.get_message(message_id)
        now = time.monotonic()
        found = re.search(r"#(\d+)$", row.text or "")
        if found:
            with out:
                sys.stdout.write(f"SEEN {found.group(1)} {now:.6f}\n")
                sys.stdout.flush()

    def on_event(event: Event) -> None:
        if event.kind == MESSAGE_STORED and event.message_id is not None \
                and event.data.get("message_kind") == "inbound":
            pool.submit(read, event.message_id)

    unsubscribe = store.bus.subscribe(on_event)
    print("READY", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    unsubscribe()
    pool.shutdown(wait=True)
    store.close()
    return 0


# ---- the benchmark ----------------------------------------------------------------------
@dataclass
class Console:
    proc: subprocess.Popen[str]
    seen: dict[int, float] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("READY"):
                self.ready.set()
            elif m := _SEEN.match(line.strip()):
                self.seen.setdefault(int(m.group(1)), float(m.group(2)))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(url: str, workdir: Path, port: int) -> subprocess.Popen[str]:
    config = workdir / "serve.yaml"
    config.write_text(
        "operator: {name: bench, role: supervisor}\nlanguage: en\n"
        f"server: {{host: 127.0.0.1, port: {port}, webhook_requests_per_second: 1000.0, "
        "webhook_burst: 5000, max_connections_per_ip: 1000}\n"
        f"channels:\n  - name: {CHANNEL}\n    kind: generic\n"
        f"    options: {{secret: {SECRET}}}\n", encoding="utf-8")
    config.chmod(0o600)
    env = {**_env(), "XDG_DATA_HOME": str(workdir / "data"),
           "XDG_CONFIG_HOME": str(workdir / "config")}
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--config", str(config),
                             "--db", url, "serve"], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        if "Serving" in line:
            return proc
    proc.kill()
    raise SystemExit("switchboard serve did not start")


def start_consoles(url: str, n: int) -> list[Console]:
    consoles = []
    for _ in range(n):
        proc = subprocess.Popen([sys.executable, "-m", "bench.team_bench", "console",
                                 "--db", url], cwd=ROOT, env=_env(), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        console = Console(proc)
        threading.Thread(target=console.read, daemon=True).start()
        consoles.append(console)
    for console in consoles:
        if not console.ready.wait(120):
            raise SystemExit("a console did not start")
    return consoles


async def send_all(port: int, first: int, n: int, rate: float) -> tuple[dict[int, float], int]:
    """``n`` signed webhooks at ``rate``/s; when each was sent, and how many got 2xx."""
    import aiohttp

    from connectors.generic.connector import SIGNATURE_HEADER, sign

    url = f"http://127.0.0.1:{port}/hooks/{CHANNEL}"
    sent: dict[int, float] = {}
    ok = 0

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal ok
        body = json.dumps({"id": f"b-{i}", "chat_id": f"c{i % 40}", "sender_id": f"c{i % 40}",
                           "text": f"bench #{i}", "name": f"Client {i % 40}"}).encode()
        headers = {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}
        sent[i] = time.monotonic()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                ok += 200 <= resp.status < 300
        except aiohttp.ClientError:  # counted as not answered 2xx
            pass

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        tasks, start = [], time.monotonic()
        for k in range(n):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, first + k)))
        await asyncio.gather(*tasks)
    return sent, ok


def wait_seen(consoles: list[Console], ids: Any, timeout: float = 30.0) -> None:
    """Until every console has seen every one of ``ids`` (or ``timeout``)."""
    wanted = list(ids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(i not in c.seen for c in consoles
                                              for i in wanted):
        time.sleep(0.05)  # a benchmark's wait for stragglers, not product code


def measure(url: str, consoles_n: int, n: int, rate: float, idle: float,
            workdir: Path) -> dict[str, Any]:
    """One measurement: serve + ``consoles_n`` consoles on ``url``."""
    port = free_port()
    serve = start_serve(url, workdir, port)
    consoles: list[Console] = []
    try:
        consoles = start_consoles(url, consoles_n)
        first = int(time.time() * 1000) % 10**9 * 1000  # unique ids on a reused database
        warm = 10  # first connections, first tasks, caches: not measured
        asyncio.run(send_all(port, first, warm, rate))
        wait_seen(consoles, range(first, first + warm))
        first += warm
        sent, ok = asyncio.run(send_all(port, first, n, rate))
        wait_seen(consoles, sent)
        latencies = []
        for i, at in sent.items():
            times = [c.seen.get(i) for c in consoles]
            if all(t is not None for t in times):
                latencies.append((max(times) - at) * 1000)  # type: ignore[type-var]
        latencies.sort()
        time.sleep(1.0)  # settle, then idle
        before = [c.cpu_seconds() for c in consoles]
        started = time.monotonic()
        time.sleep(idle)
        wall = time.monotonic() - started
        cpu = [(c.cpu_seconds() - b) / wall * 100 for c, b in zip(consoles, before, strict=True)]
    finally:
        for console in consoles:
            if console.proc.stdin is not None:
                console.proc.stdin.close()
        for console in consoles:
            try:
                console.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                console.proc.kill()
        serve.terminate()
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
    seen_all = len(latencies)

    def pct(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] if latencies else None

    return {"consoles": consoles_n, "sent": n, "ok": ok, "seen_by_all": seen_all,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": latencies[-1] if latencies else None,
            "idle_cpu_mean_pct": sum(cpu) / len(cpu), "idle_cpu_max_pct": max(cpu)}


def backend_run(label: str, url_for: Any, consoles_n: int, n: int, rate: float,
                idle: float) -> list[dict[str, Any]]:
    results = []
    for count in (1, consoles_n):
        with tempfile.TemporaryDirectory(prefix="sb-team-bench-") as d:
            result = measure(url_for(Path(d)), count, n, rate, idle, Path(d))
        result.update(backend=label, rate=rate, load=os.getloadavg()[0])
        results.append(result)
    one, many = results
    ratio = (many["p99_ms"] / one["p99_ms"]) if one["p99_ms"] and many["p99_ms"] else None
    many["p99_ratio"] = ratio
    return results


def table(results: list[dict[str, Any]]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    rows = ["| backend | consoles | webhooks (2xx) | seen by all | p50 ms | p99 ms | max ms "
            "| p99 ratio N:1 | idle CPU/console mean (max) | load |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ratio = r.get("p99_ratio")
        rows.append(f"| {r['backend']} | {r['consoles']} | {r['sent']} ({r['ok']}) | "
                    f"{r['seen_by_all']} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} | "
                    f"{ms(r['max_ms'])} | {'-' if ratio is None else f'{ratio:.2f}×'} | "
                    f"{r['idle_cpu_mean_pct']:.2f} % ({r['idle_cpu_max_pct']:.2f} %) | "
                    f"{r['load']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["console"]:
        sub = argparse.ArgumentParser(prog="python -m bench.team_bench console")
        sub.add_argument("--db", required=True)
        return console_main(sub.parse_args(argv[1:]).db)
    ap = argparse.ArgumentParser(prog="python -m bench.team_bench")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to prove it runs")
    ap.add_argument("--rate", type=float, default=50.0, help="webhooks per second")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the load lasts")
    ap.add_argument("--idle", type=float, default=10.0, help="idle CPU window, seconds")
    ap.add_argument("--sqlite-consoles", type=int, default=5)
    ap.add_argument("--pg", help="also measure PostgreSQL at this URL")
    ap.add_argument("--pg-consoles", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.seconds, a.idle, a.sqlite_consoles, a.pg_consoles = 1.0, 0.5, 2, 2
    n = max(1, int(a.rate * a.seconds))
    print("$ python -m bench.team_bench " + " ".join(argv), flush=True)
    results = backend_run("SQLite", lambda d: str(d / "team.db"), a.sqlite_consoles, n,
                          a.rate, a.idle)
    if a.pg:
        results += backend_run("PostgreSQL", lambda d: a.pg, a.pg_consoles, n, a.rate, a.idle)
    print(table(results))
    if a.json:
        print(json.dumps(results))
    return 0 if all(r["seen_by_all"] == r["sent"] == r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
