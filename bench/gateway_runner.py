"""A small gateway process for benchmarks and crash tests: real routes, real writer.

    python -m bench.gateway_runner --db PATH [--port 0] [--channel tg] [--token T]

It opens the store, makes sure a Telegram channel exists, mounts the real
``TelegramConnector`` webhook route (``/hooks/telegram/{channel}``) on an aiohttp
server on 127.0.0.1, and feeds it through the real group-commit writer
(``connectors.writer.GroupCommitWriter``): the same path a webhook takes in
``switchboard serve``, without the parts a benchmark must not touch (no getMe,
no setWebhook, no outbox sending). It prints one line ``READY <port> <secret>`` on
stdout once it listens, and on SIGTERM/SIGINT prints ``BATCHES <commits> <messages>``
before exiting, so a benchmark can tell whether group commit batched anything.

Why its own process: the load generator must not share a GIL with the server, and a
crash test must be able to SIGKILL it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from connectors.base import ChannelSpec
from connectors.registry import policies
from connectors.telegram.connector import TelegramConnector, webhook_path
from connectors.writer import GroupCommitWriter
from storage.store import Store

DEFAULT_TOKEN = "123456:bench-token-not-secret"


class Counting(GroupCommitWriter):
    """The real writer, counting the messages it committed (commits are ``batches``)."""

    messages = 0

    async def ingest(self, inbound):  # type: ignore[no-untyped-def]
        result = await super().ingest(inbound)
        self.messages += 1
        return result


@dataclass
class Gateway:
    """A running webhook server: the real connector route, fed by the real writer."""

    store: Store
    writer: Counting
    runner: web.AppRunner
    port: int
    secret: str
    path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.writer.stop()


async def start_gateway(store: Store, port: int = 0, channel: str = "tg",
                        token: str = DEFAULT_TOKEN, window: float = 0.0) -> Gateway:
    ch = await asyncio.to_thread(store.ensure_channel, "telegram", channel, None)
    writer = Counting(store, window=window)
    await writer.start()
    spec = ChannelSpec(id=ch.id, name=channel, kind="telegram",
                       options={"token": token, "mode": "webhook"})
    connector = TelegramConnector(spec, store, writer.ingest)
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.add_routes(connector.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    return Gateway(store, writer, runner, bound, connector.secret, webhook_path(channel))


async def serve(db: str, port: int, channel: str, token: str, window: float) -> None:
    store = await asyncio.to_thread(Store.open, db, policies=policies())
    gw = await start_gateway(store, port, channel, token, window)
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

    def __init__(self, db: Path | str, window: float = 0.0, port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.gateway_runner", "--db", str(db), "--window",
             str(window), "--port", str(port)],
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
    a = ap.parse_args(argv)
    asyncio.run(serve(a.db, a.port, a.channel, a.token, a.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
