"""The server's guards against slow and flooding clients (ServerLimits), over real
sockets on 127.0.0.1: raw sockets play the slow clients, aiohttp the normal traffic."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import quote, urlsplit

import aiohttp
import pytest

from connectors.generic.connector import SIGNATURE_HEADER, sign
from connectors.http_server import ServerLimits
from connectors.rejections import DEFAULT_LIMIT
from storage.models import INBOUND
from storage.store import Store
from tests.connectors.gateway_helpers import SECRET, running, spec


def payload(mid: str, chat: str = "c-1") -> bytes:
    return json.dumps({"id": mid, "chat_id": chat, "text": "Привет"}).encode()


def signed(body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}


def inbound_count(store: Store, channel_id: int) -> int:
    M = store.m.Message
    return M.select().where((M.channel == channel_id) & (M.kind == INBOUND)).count()


async def raw(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    async with asyncio.timeout(timeout):
        while chunk := await _read(reader):
            data += chunk
    return data


async def _read(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.read(4096)
    except ConnectionResetError:
        return b""


async def health(http: aiohttp.ClientSession, base: str) -> int:
    async with http.get(f"{base}/health") as response:
        return response.status


async def test_headers_sent_a_byte_at_a_time_are_cut_off_and_logged(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    limits = ServerLimits(header_timeout=0.5)
    async with running(sqlite_store, [], limits=limits) as gw, aiohttp.ClientSession() as http:
        reader, writer = await raw(gw.external_url())
        request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        loop = asyncio.get_running_loop()
        started = loop.time()
        cut = False
        for byte in request:  # one byte, then wait (for the close) a little, and again
            try:
                writer.write(bytes([byte]))
                await writer.drain()
                if await asyncio.wait_for(_read(reader), 0.05) == b"":
                    cut = True
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                cut = True
                break
        assert cut, "a client trickling its headers was never cut off"
        assert loop.time() - started < 5
        assert await health(http, gw.external_url()) == 200  # others are served meanwhile
        writer.close()
    assert any("no complete request headers within 0.5 s" in r.getMessage()
               for r in caplog.records)


async def test_a_trickled_body_gets_408_and_stores_nothing(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    body = payload("slow")
    limits = ServerLimits(body_timeout=0.5)
    async with running(sqlite_store, [hook], limits=limits) as gw:
        reader, writer = await raw(gw.external_url())
        head = (f"POST /hooks/crm HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"{SIGNATURE_HEADER}: {sign(SECRET, body)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body[:5])  # and the rest never comes
        await writer.drain()
        answer = await closed_by_server(reader)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert inbound_count(sqlite_store, hook.id) == 0
    assert any("did not arrive within 0.5 s" in r.getMessage() for r in caplog.records)


async def test_connections_per_address_are_capped(sqlite_store: Store,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    limits = ServerLimits(max_connections_per_ip=3, header_timeout=30)
    async with running(sqlite_store, [], limits=limits) as gw:
        held = [await raw(gw.external_url()) for _ in range(3)]
        async with asyncio.timeout(10):  # the server has accepted all three
            while gw.server.connections.get("127.0.0.1", 0) < 3:
                await asyncio.sleep(0.01)
        reader, writer = await raw(gw.external_url())
        assert await closed_by_server(reader) == b""  # the fourth is closed at once
        writer.close()
        held_reader, held_writer = held.pop()
        held_writer.close()
        await closed_by_server(held_reader)
        async with asyncio.timeout(10):  # a freed slot is usable again
            while True:
                async with aiohttp.ClientSession() as http:
                    try:
                        if await health(http, gw.external_url()) == 200:
                            break
                    except aiohttp.ClientError:
                        pass
                await asyncio.sleep(0.02)
        for _r, w in held:
            w.close()
    assert any("connections at once from one address" in r.getMessage()
               for r in caplog.records)


async def test_a_flooded_webhook_route_answers_429_with_retry_after(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    other = spec(sqlite_store, "generic", "shop", secret=SECRET)
    limits = ServerLimits(webhook_requests_per_second=0.5, webhook_burst=5)
    caplog.set_level(logging.WARNING)
    async with running(sqlite_store, [hook, other], limits=limits) as gw, \
            aiohttp.ClientSession() as http:
        async def post(route: str, mid: str) -> tuple[int, str | None]:
            body = payload(mid, chat=mid)
            async with http.post(f"{gw.external_url()}/hooks/{route}", data=body,
                                 headers=signed(body)) as response:
                return response.status, response.headers.get("Retry-After")

        answers = await asyncio.gather(*(post("crm", f"m-{i}") for i in range(60)))
        assert await post("shop", "s-1") == (200, None)  # one channel's flood is its own
    statuses = [status for status, _ra in answers]
    assert statuses.count(200) == 5 and statuses.count(429) == 55
    assert all(int(ra) >= 1 for status, ra in answers if status == 429 and ra)
    assert all(ra is not None for status, ra in answers if status == 429)
    assert inbound_count(sqlite_store, hook.id) == 5  # exactly what was acknowledged
    refused = [r for r in caplog.records if "(429)" in r.getMessage()]
    assert 1 <= len(refused) <= DEFAULT_LIMIT  # logged, but not line by line forever


@pytest.mark.parametrize("name", ["поддержка", "support team", "a/b {x} 100%"])
async def test_any_channel_name_is_served_at_its_printed_address(
        sqlite_store: Store, name: str) -> None:
    hook = spec(sqlite_store, "generic", name, secret=SECRET)
    async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
        printed = next(line for line in gw.addresses() if "/hooks/" in line)
        url = printed.split(": ", 1)[1]
        assert url.endswith("/hooks/" + quote(name, safe=""))
        body = payload("m-1")
        async with http.post(aiohttp.client.URL(url, encoded=True), data=body,
                             headers=signed(body)) as response:
            assert response.status == 200, await response.text()
    assert inbound_count(sqlite_store, hook.id) == 1


async def test_webhooks_read_their_body_under_the_servers_guards(sqlite_store: Store) -> None:
    """The body-timeout guard reads each body before the handler: a connector's webhook
    (Telegram's here, through the gateway's own server) still gets every byte."""
    from connectors.gateway import Gateway
    from tests.connectors.fake_telegram import FakeTelegram
    from tests.connectors.gateway_helpers import eventually

    fake = FakeTelegram()
    await fake.start()
    tg = spec(sqlite_store, "telegram", "поддержка бот", token=fake.token, api_base=fake.url,
              mode="webhook")
    gateway = Gateway(sqlite_store, [tg], port=0)
    try:
        gateway.bind()
        url = f"{gateway.external_url()}/hooks/telegram/{quote(tg.name, safe='')}"
        built = gateway.connectors[tg.name]  # its options were validated once, when built
        built.options = built.options.model_copy(update={"webhook_url": url})
        await gateway.start()
        fake.push_message("через вебхук")
        assert await eventually(lambda: inbound_count(sqlite_store, tg.id) == 1)
        assert all(status == 200 for _update, status in fake.deliveries)
    finally:
        await gateway.stop()
        await fake.close()
