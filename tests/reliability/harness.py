"""A real gateway (``connectors.gateway.Gateway``) on its own event loop thread.

Hypothesis runs synchronous test functions; the gateway needs a running loop. So the
loop lives in a daemon thread for the module, and tests hand it coroutines with
:meth:`LoopThread.run`. Every log record of the process is kept (DEBUG and up) so a
test can check that bad input was rejected *with a logged reason* and that no
unexpected exception (``log.exception``) happened.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from connectors.base import ChannelSpec
from connectors.gateway import Gateway
from connectors.http_server import ServerLimits
from storage.store import Store

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Records(logging.Handler):
    """Keeps every record; ``take()`` returns and clears them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        with self._lock2:
            out, self.records = self.records, []
        return out


class RunningGateway:
    """Store + Gateway with the given channels, started on a LoopThread."""

    def __init__(self, tmp: Path, channels: list[tuple[str, str, dict[str, Any]]],
                 max_body_bytes: int = 1_048_576, limits: ServerLimits | None = None) -> None:
        self.lt = LoopThread()
        self.store = Store.open(str(tmp / "gateway.db"))
        specs = []
        for kind, name, options in channels:
            ch = self.store.ensure_channel(kind, name, {})
            specs.append(ChannelSpec(id=ch.id, name=name, kind=kind, options=options))
        self.gateway = Gateway(self.store, specs, port=0, max_body_bytes=max_body_bytes,
                               limits=limits)
        self.gateway.bind()
        self.lt.run(self.gateway.start())
        self.base = self.gateway.server.base_url()
        self.records = Records()
        logging.getLogger().addHandler(self.records)
        self._level = logging.getLogger().level
        logging.getLogger().setLevel(logging.DEBUG)
        logging.getLogger("peewee").setLevel(logging.INFO)  # one record per query: noise

    def channel_id(self, name: str) -> int:
        return self.store.channel_by_name(name).id

    def close(self) -> None:
        logging.getLogger().removeHandler(self.records)
        logging.getLogger().setLevel(self._level)
        self.lt.run(self.gateway.stop())
        self.lt.close()
        self.store.close()
