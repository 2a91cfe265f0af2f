"""The shared webhook pipeline (connectors/webhook_pipeline.py) on a tiny channel declared
here, served over 127.0.0.1 behind the gateway's server and on a bare application.

The tiny channel: header ``X-Tiny-Key`` required before the body is read (401), bodies
of at most 200 bytes (413), ``X-Tiny-Signature`` = hex HMAC-SHA256 of the raw bytes
(403), strict UTF-8 JSON (400), ``{"id", "chat", "text"}`` (400 otherwise; ``{"ping":
…}`` is answered ``pong`` at once), stored into a real SQLite store, answered ``stored``
only after commit; a message never storable → 422, a store unavailable → 503.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.rejections import RejectionLog
from connectors.webhook_pipeline import Refused, WebhookSteps, webhook_route
from connectors.writer import GroupCommitWriter
from storage.inputs import Inbound
from storage.rows import IngestResult
from storage.store import Store
from tests.connectors.telegram_fixtures import HookServer

KEY = "tiny-key"
CAP = 200
GONE = 987_654  # a channel id that does not exist: the store refuses it for good
log = logging.getLogger("tests.tiny")


def signature(body: bytes) -> str:
    return hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()


class TinySteps(WebhookSteps[Inbound]):
    def __init__(self, channel_id: int,
                 ingest: Callable[[Inbound], Awaitable[IngestResult]]) -> None:
        self.channel_id = channel_id
        self.ingest = ingest
        self.rejections = RejectionLog(log, "tiny webhook")
        self.stores = 0
        self.max_body = CAP

    def check_headers(self, request: web.Request) -> None:
        if request.headers.get("X-Tiny-Key") != KEY:
            raise Refused(401, "no key")

    def check_body(self, request: web.Request, body: bytes) -> None:
        if not hmac.compare_digest(request.headers.get("X-Tiny-Signature", ""),
                                   signature(body)):
            raise Refused(403, "bad signature")

    def too_large(self, cap: int) -> Refused:
        return Refused(413, f"over {cap} bytes")

    def not_json(self, err: ValueError) -> Refused:
        return Refused(400, "not UTF-8" if isinstance(err, UnicodeDecodeError) else "not JSON")

    def parse(self, data: Any) -> Inbound | web.StreamResponse:
        if isinstance(data, dict) and "ping" in data:
            return web.Response(text="pong")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str)
                                                 for k in ("id", "chat", "text")):
            raise Refused(400, "fields missing")
        return Inbound(channel_id=self.channel_id, chat_id=data["chat"],
                       sender_id=data["chat"], text=data["text"], external_id=data["id"])

    async def store(self, parsed: Inbound) -> web.StreamResponse:
        self.stores += 1
        await self.ingest(parsed)
        return web.Response(text="stored")

    def unstorable(self, parsed: Inbound, err: Exception) -> Refused:
        return Refused(422, f"never storable: {err}")

    def retry_later(self, parsed: Inbound) -> web.StreamResponse:
        return web.Response(status=503, text="later")

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return web.json_response({"refused": reason}, status=status)


def store_ingest(store: Store) -> Callable[[Inbound], Awaitable[IngestResult]]:
    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(store.ingest, inbound)
    return ingest


@pytest.fixture(params=["gateway", "bare"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[HookServer]:
    """Behind the gateway's server the body is read by its middleware first; on a bare
    application the pipeline reads the stream itself."""
    hook = HookServer(gateway=request.param == "gateway")
    try:
        yield hook
    finally:
        await hook.close()


async def ping(_request: web.Request) -> web.Response:
    return web.Response(text="pong")


async def serve_tiny(server: HookServer, steps: TinySteps) -> str:
    await server.start([webhook_route("/hooks/tiny/x", steps), web.get("/ping", ping)])
    return server.url + "/hooks/tiny/x"


def body_of(**fields: str) -> bytes:
    return json.dumps(fields).encode()


def signed(body: bytes, **extra: str) -> dict[str, str]:
    return {"X-Tiny-Key": KEY, "X-Tiny-Signature": signature(body),
            "Content-Type": "application/json", **extra}


async def post(http: aiohttp.ClientSession, url: str, body: bytes,
               headers: dict[str, str]) -> tuple[int, str]:
    async with http.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


async def test_refusals_are_answered_in_the_channel_shape_logged_and_store_nothing(
        server: HookServer, sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    channel = sqlite_store.ensure_channel("generic", "tiny", None)
    steps = TinySteps(channel.id, store_ingest(sqlite_store))
    url = await serve_tiny(server, steps)
    good = body_of(id="1", chat="c", text="hi")
    big = body_of(id="2", chat="c", text="x" * CAP)
    cases = [
        ("no key", good, {"X-Tiny-Signature": signature(good)}, 401),
        ("bad signature", good, signed(good, **{"X-Tiny-Signature": "0" * 64}), 403),
        ("over 200 bytes", big, signed(big), 413),
        ("not JSON", b"{oops", signed(b"{oops"), 400),
        ("not UTF-8", b'{"id": "\xff"}', signed(b'{"id": "\xff"}'), 400),
        ("not UTF-8", b'{"text": "a\xed\xa0\x80"}', signed(b'{"text": "a\xed\xa0\x80"}'), 400),
        ("fields missing", body_of(id="3"), signed(body_of(id="3")), 400),
    ]
    async with aiohttp.ClientSession() as http:
        for reason, body, headers, status in cases:
            caplog.clear()
            with caplog.at_level(logging.WARNING, "tests.tiny"):
                answer = await post(http, url, body, headers)
            assert answer == (status, json.dumps({"refused": reason})), reason
            [line] = [r.getMessage() for r in caplog.records if r.name == "tests.tiny"]
            assert f"({status}): {reason}" in line and "tiny webhook" in line
    assert steps.stores == 0
    assert sqlite_store.count_tasks() == 0


async def test_a_chunked_body_over_the_cap_is_refused(
        server: HookServer, sqlite_store: Store) -> None:
    channel = sqlite_store.ensure_channel("generic", "tiny", None)
    steps = TinySteps(channel.id, store_ingest(sqlite_store))
    url = await serve_tiny(server, steps)
    big = body_of(id="2", chat="c", text="x" * CAP)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read chunk by chunk
        for start in range(0, len(big), 50):
            yield big[start:start + 50]

    async with aiohttp.ClientSession() as http:
        status, text = await post(http, url, chunks(), signed(big))  # type: ignore[arg-type]
    assert (status, json.loads(text)) == (413, {"refused": f"over {CAP} bytes"})
    assert steps.stores == 0


async def test_stored_then_answered_and_an_early_answer_stores_nothing(
        server: HookServer, sqlite_store: Store) -> None:
    channel = sqlite_store.ensure_channel("generic", "tiny", None)
    steps = TinySteps(channel.id, store_ingest(sqlite_store))
    url = await serve_tiny(server, steps)
    body = body_of(id="m-1", chat="c-1", text="Привет")
    async with aiohttp.ClientSession() as http:
        assert await post(http, url, body, signed(body)) == (200, "stored")
        assert await post(http, url, body_of(ping="1"), signed(body_of(ping="1"))) == (
            200, "pong")
    stored = sqlite_store.find_message(channel.id, "m-1")
    assert stored is not None and stored.text == "Привет"
    assert steps.stores == 1


async def test_the_answer_comes_only_after_the_store_step_returns(
        server: HookServer, sqlite_store: Store) -> None:
    channel = sqlite_store.ensure_channel("generic", "tiny", None)
    entered, release = asyncio.Event(), asyncio.Event()
    plain = store_ingest(sqlite_store)

    async def gated(inbound: Inbound) -> IngestResult:
        entered.set()
        await release.wait()
        return await plain(inbound)

    url = await serve_tiny(server, TinySteps(channel.id, gated))
    body = body_of(id="m-2", chat="c-2", text="wait for it")
    async with aiohttp.ClientSession() as http:
        answer = asyncio.create_task(post(http, url, body, signed(body)))
        await asyncio.wait_for(entered.wait(), 5)
        # A full round trip on the same server: had the pipeline answered before its
        # store step returned, that answer would have been written by now.
        async with http.get(server.url + "/ping") as pong:
            assert await pong.text() == "pong"
        assert not answer.done()
        assert sqlite_store.find_message(channel.id, "m-2") is None
        release.set()
        assert await asyncio.wait_for(answer, 5) == (200, "stored")
    assert sqlite_store.find_message(channel.id, "m-2") is not None


async def test_store_failures_permanent_stops_the_sender_transient_asks_again(
        server: HookServer, sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    gone = TinySteps(GONE, store_ingest(sqlite_store))  # the store refuses it for good
    stopped_writer = GroupCommitWriter(sqlite_store)  # not running: briefly unavailable
    down = TinySteps(sqlite_store.ensure_channel("generic", "tiny", None).id,
                     stopped_writer.ingest)
    await server.start([webhook_route("/hooks/tiny/gone", gone),
                        webhook_route("/hooks/tiny/down", down)])
    body = body_of(id="m-3", chat="c-3", text="hello")
    async with aiohttp.ClientSession() as http:
        with caplog.at_level(logging.WARNING, "tests.tiny"):
            status, text = await post(http, server.url + "/hooks/tiny/gone", body, signed(body))
        assert status == 422 and "never storable" in json.loads(text)["refused"]
        assert any("(422): never storable" in r.getMessage() for r in caplog.records)
        caplog.clear()
        with caplog.at_level(logging.WARNING, "tests.tiny"):
            assert await post(http, server.url + "/hooks/tiny/down", body, signed(body)) == (
                503, "later")
        [record] = [r for r in caplog.records if r.name == "tests.tiny"]
        assert record.levelno == logging.ERROR and record.exc_info is not None
        assert "tiny webhook: storing failed" in record.getMessage()
    assert gone.stores == down.stores == 1
    assert sqlite_store.count_tasks() == 0
