"""A small gateway process for benchmarks and crash tests: real routes, real writer.

    python -m bench.gateway_runner --db PATH [--port 0] [--channel tg] [--token T]
                                   [--writer process|thread] [--profile PREFIX]

It opens the store, makes sure a Telegram channel exists, mounts the real
``TelegramConnector`` webhook route (``/hooks/telegram/{channel}``) on the real
``connectors.http_server.HttpServer`` on 127.0.0.1 (the gateway's server: its body
cap, per-route rate limit, body timeout and per-address connection guard all run; the
rate limit is raised to ``BENCH_LIMITS`` so a capacity benchmark measures the path,
not the default 100 requests/s guard), and feeds it through the real group-commit writer
that ``switchboard serve`` makes (``connectors.ingest_process.writer_for``: on SQLite,
a helper process; ``--writer thread`` for the writer thread in this process): the
same path a webhook takes in ``switchboard serve``, without the parts a benchmark must not touch (no getMe,
no setWebhook, no outbox sending). It prints one line ``READY <port> <secret>`` on
stdout once it listens, and on SIGTERM/SIGINT prints ``BATCHES <commits> <messages>``
before exiting, so a benchmark can tell whether group commit batched anything.

Why its own process: the load generator must not share a GIL with the server, and a
crash test must be able to SIGKILL it.

``--profile PREFIX`` (bench/PROFILE.md, issue 20): cProfile the event loop thread
(``PREFIX.loop.pstats``: aiohttp, JSON, the parse, the hand-off) and, with a second
profiler, every store call the writer makes in its worker thread
(``PREFIX.writer.pstats``: SQL, commit, event publishing), written on SIGTERM. It
implies ``--writer thread`` (a helper process's calls are out of its reach).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import ChannelSpec
from connectors.http_server import HttpServer, ServerLimits
from connectors.ingest_process import ProcessCommitWriter, writer_for
from connectors.registry import policies
from connectors.telegram.connector import TelegramConnector, webhook_path
from connectors.writer import GroupCommitWriter
from storage.inputs import Inbound
from storage.rows import IngestResult
from storage.store import Store

DEFAULT_TOKEN = "123456:bench-token-not-secret"
# The gateway's guards, with room for a load generator on one address: the default
# webhook rate limit (100/s per route) would answer most of a capacity test 429.
BENCH_LIMITS = ServerLimits(webhook_requests_per_second=1_000_000.0, webhook_burst=1_000_000,
                            max_connections_per_ip=1024)


class Counting:
    """The gateway's writer (``connectors.ingest_process.writer_for``, as ``serve`` makes
    it), counting the messages it committed (commits are ``batches``)."""

    def __init__(self, inner: GroupCommitWriter | ProcessCommitWriter) -> None:
        self.inner = inner
        self.messages = 0

    @property
    def batches(self) -> int:
        return self.inner.batches

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def ingest(self, inbound: Inbound) -> IngestResult:
        result = await self.inner.ingest(inbound)
        self.messages += 1
        return result


@dataclass
class Gateway:
    """A running webhook server: the real connector route, fed by the real writer."""

    store: Store
    writer: Counting
    server: HttpServer
    port: int
    secret: str
    path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def close(self) -> None:
        await self.server.stop()
        await self.writer.stop()


async def start_gateway(store: Store, port: int = 0, channel: str = "tg",
                        token: str = DEFAULT_TOKEN, window: float = 0.0,
                        writer: str = "process") -> Gateway:
    ch = await asyncio.to_thread(store.ensure_channel, "telegram", channel, None)
    if window or writer == "thread":
        inner: GroupCommitWriter | ProcessCommitWriter = GroupCommitWriter(store, window=window)
    else:
        inner = writer_for(store, store.bus, store.db.database, in_process=False)
    writer = Counting(inner)
    await writer.start()
    spec = ChannelSpec(id=ch.id, name=channel, kind="telegram",
                       options={"token": token, "mode": "webhook"})
    connector = TelegramConnector(spec, store, writer.ingest)
    server = HttpServer("127.0.0.1", port, 2 * 1024 * 1024, limits=BENCH_LIMITS)
    server.add_routes(connector.routes(), connector.body_caps())
    await server.start()
    return Gateway(store, writer, server, server.bound_port, connector.secret,
                   webhook_path(channel))


def profiled(fn: Callable[..., Any], prof: cProfile.Profile) -> Callable[..., Any]:
    """``fn`` with ``prof`` enabled around each call (in whichever thread makes it)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        prof.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            prof.disable()

    return wrapper


async def serve(db: str, port: int, channel: str, token: str, window: float,
                writer: str = "process", writer_prof: cProfile.Profile | None = None) -> None:
    store = await asyncio.to_thread(Store.open, db, policies=policies())
    if writer_prof is not None:  # the writer's calls, in its worker thread
        store.ingest_many = profiled(store.ingest_many, writer_prof)  # type: ignore[method-assign]
        store.ingest = profiled(store.ingest, writer_prof)  # type: ignore[method-assign]
    gw = await start_gateway(store, port, channel, token, window,
                             "thread" if writer_prof is not None else writer)
    print(f"READY {gw.port} {gw.secret} {gw.path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gw.close()
    print(f"BATCHES {gw.writer.batches} {gw.writer.messages}", flush=True)
    await asyncio.to_thread(store.close)


class Runner:
    """``bench.gateway_runner`` as a subprocess (the server under load)."""

    def __init__(self, db: Path | str, window: float = 0.0, port: int = 0,
                 profile: str | None = None, writer: str = "process") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.gateway_runner", "--db", str(db), "--window",
             str(window), "--port", str(port), "--writer", writer,
             *(["--profile", profile] if profile else [])],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            self.proc.kill()
            raise RuntimeError("the gateway runner did not start")
        self.port, self.secret, self.path = int(line[1]), line[2], line[3]
        self.url = f"http://127.0.0.1:{self.port}{self.path}"

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, as a crash or the OOM killer would."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> tuple[int, int]:
        """SIGTERM; returns (commits, messages) the runner's writer reported."""
        self.proc.terminate()
        out, _err = self.proc.communicate(timeout=30)
        m = re.search(r"BATCHES (\d+) (\d+)", out or "")
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gateway_runner")
    ap.add_argument("--db", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--channel", default="tg")
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    ap.add_argument("--window", type=float, default=0.0,
                    help="group-commit window, seconds (0: adaptive, as the gateway)")
    ap.add_argument("--writer", choices=("process", "thread"), default="process",
                    help="the ingest writer: a helper process (serve's default on SQLite, "
                         "server.ingest_process) or a thread of this process")
    ap.add_argument("--profile", metavar="PREFIX",
                    help="write PREFIX.loop.pstats and PREFIX.writer.pstats on exit")
    a = ap.parse_args(argv)
    if not a.profile:
        asyncio.run(serve(a.db, a.port, a.channel, a.token, a.window, a.writer))
        return 0
    loop_prof, writer_prof = cProfile.Profile(), cProfile.Profile()
    loop_prof.enable()
    try:
        asyncio.run(serve(a.db, a.port, a.channel, a.token, a.window, a.writer, writer_prof))
    finally:
        loop_prof.disable()
        loop_prof.dump_stats(f"{a.profile}.loop.pstats")
        writer_prof.dump_stats(f"{a.profile}.writer.pstats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
