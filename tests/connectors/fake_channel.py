"""A fake receiver for the ``generic`` channel: a real aiohttp server on 127.0.0.1.

It implements the receiving side documented in ``connectors/generic/connector.py``: checks the
signature, honours ``Idempotency-Key`` (a repeated key is answered with the first
answer and not counted again), and can be scripted to answer the next requests with
errors (429 + Retry-After, 5xx, 4xx) or to answer slowly. Every request is logged
with its arrival time so tests can check order and retry timing.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connectors.generic.connector import SIGNATURE_HEADER, sign


@dataclass
class Received:
    key: str
    body: dict[str, Any]
    at: float
    status: int


@dataclass
class FakeChannelServer:
    secret: str = "s3cret"
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> body
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    port: int = 0
    # After this many accepted deliveries, further ones are recorded (processed) but
    # never answered until release(): the sender is certainly mid-flight then, as when
    # a process dies after the server processed a request but before the answer came.
    hold_after: int | None = None
    _runner: web.AppRunner | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.hold_after = None
        self._released.set()

    def fail_next(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        self.script.append((status, headers or {}, body))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.accepted)} of {count} deliveries arrived")
            await asyncio.sleep(0.02)

    async def _send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        if request.headers.get(SIGNATURE_HEADER) != sign(self.secret, raw):
            self.requests.append(Received(key, {}, time.monotonic(), 403))
            return web.json_response({"error": "bad signature"}, status=403)
        body = json.loads(raw)
        if self.script:
            status, headers, text = self.script.pop(0)
            self.requests.append(Received(key, body, time.monotonic(), status))
            return web.Response(status=status, text=text, headers=headers,
                                content_type="application/json" if text.startswith("{") else "text/plain")
        if self.delay:
            await asyncio.sleep(self.delay)
        self.requests.append(Received(key, body, time.monotonic(), 200))
        if key not in self.accepted:  # the idempotency key makes a repeat a no-op
            self.accepted[key] = body
        if self.hold_after is not None and len(self.accepted) > self.hold_after:
            await self._released.wait()
        return web.json_response({"id": f"fake-{key}"})

