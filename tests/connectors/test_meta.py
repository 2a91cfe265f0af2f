"""The shared Meta pieces: the signature over raw bytes, error classification, splitting,
and a channel that cannot start saying why."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import peewee as pw
import pytest

from connectors.base import PermanentSendError, TransientSendError
from connectors.meta.graph import GraphError, GraphNetworkError, parse_answer, to_send_error
from connectors.meta.hook import sign, signature_ok, webhook_path
from connectors.meta.messaging import Deleted, Delivered, Echo, Incoming, Read, parse_envelope
from connectors.meta.text import split_text
from connectors.whatsapp.connector import WhatsAppConnector
from storage.channel_policy import LIMIT_UTF8_BYTES
from storage.inputs import Inbound
from storage.rows import IngestResult
from storage.store import Store
from tests.connectors.fake_meta import WA_THROUGHPUT, WA_WINDOW, FakeMeta
from tests.connectors.gateway_helpers import running, spec
from tests.connectors.meta_fixtures import meta_options, wait_until
from tests.connectors.telegram_fixtures import HookServer


def test_signature_is_checked_over_the_raw_escaped_bytes() -> None:
    body = {"entry": [{"text": "Привет / ä"}]}
    raw = FakeMeta.serialise(body)
    assert b"\\u041f" in raw and b"\\/" in raw  # what Meta signs
    header = sign("secret", raw)
    assert header.startswith("sha256=") and header == header.lower()
    assert signature_ok("secret", raw, header)
    # The same JSON re-serialised (UTF-8, unescaped slashes) has another hash.
    assert not signature_ok("secret", json.dumps(body, ensure_ascii=False).encode(), header)
    assert not signature_ok("other", raw, header)
    assert not signature_ok("", raw, sign("", raw))  # no secret configured: nothing passes
    assert not signature_ok("secret", raw, header.upper())


def test_errors_are_classified_by_code_not_http_status() -> None:
    with pytest.raises(GraphError) as caught:
        parse_answer(400, json.dumps(WA_THROUGHPUT).encode())
    assert isinstance(to_send_error(caught.value), TransientSendError)
    with pytest.raises(GraphError) as caught:
        parse_answer(400, json.dumps(WA_WINDOW).encode())
    err = to_send_error(caught.value)
    assert isinstance(err, PermanentSendError) and "Re-engagement message" in str(err)
    assert "more than 24 hours" in str(err)
    with pytest.raises(GraphNetworkError):
        parse_answer(502, b"<html>Bad gateway</html>")
    with pytest.raises(GraphError) as caught:
        parse_answer(401, json.dumps({"error": {"message": "Invalid OAuth access token",
                                                "code": 190}}).encode())
    assert isinstance(to_send_error(caught.value), TransientSendError)  # a fixed token sends


def test_split_by_utf8_bytes_never_cuts_a_character() -> None:
    word = "ёжик" * 300  # one 2,400-byte word: cut hard, but between characters
    parts = split_text(word, 1000, LIMIT_UTF8_BYTES)
    assert "".join(parts) == word and all(len(p.encode()) <= 1000 for p in parts)
    assert split_text("коротко", 1000, LIMIT_UTF8_BYTES) == ["коротко"]
    paragraphs = split_text("a\n\nb " * 3000, 2000)  # a blank line is the preferred cut
    assert paragraphs[0].endswith("a") and paragraphs[1].startswith("b")


def test_envelope_events() -> None:
    fake = FakeMeta("instagram")
    body = fake.page_body([
        fake.page_item("u1", "page", "message", {"mid": "m1", "text": "hi"}),
        fake.page_item("page", "u1", "message", {"mid": "m2", "text": "ours", "is_echo": True}),
        fake.page_item("u1", "page", "message", {"mid": "m1", "is_deleted": True}),
        fake.page_item("u1", "page", "read", {"mid": "m2"}),
        fake.page_item("u1", "page", "delivery", {"watermark": 1700000000000}),
    ])
    events = [event for _entry, event in parse_envelope(body, "instagram")]
    assert [type(e) for e in events] == [Incoming, Echo, Deleted, Read, Delivered]
    assert events[3].mid == "m2" and events[4].mids == ()


@pytest.mark.parametrize("kind", ["whatsapp", "facebook", "instagram"])
async def test_a_channel_that_cannot_start_says_why(sqlite_store: Store, tmp_path: Path,
                                                    kind: str) -> None:
    fake = FakeMeta(kind, token="the-real-token")
    await fake.start()
    try:
        broken = spec(sqlite_store, kind, f"{kind}-bad", **meta_options(kind, fake, tmp_path))
        missing = spec(sqlite_store, kind, f"{kind}-empty", api_base=fake.url)
        async with running(sqlite_store, [broken, missing]) as gateway:
            health = await wait_until(
                lambda: all(gateway.health().get(n, ("",))[0] == "failed"
                            for n in (broken.name, missing.name)) and gateway.health(), 10,
                "both channels failed")
        assert "Invalid OAuth access token" in health[broken.name][1]
        assert "app_secret" in health[missing.name][1] and "verify_token" in health[missing.name][1]
    finally:
        await fake.close()


async def test_store_unavailable_answers_500_so_meta_retries(sqlite_store: Store,
                                                             tmp_path: Path) -> None:
    fake = FakeMeta("whatsapp")
    await fake.start()
    hooks = HookServer()
    failures = [pw.OperationalError("database is locked"), ValueError("cannot store this")]

    async def flaky_ingest(inbound: Inbound) -> IngestResult:
        if failures:
            raise failures.pop(0)
        return await asyncio.to_thread(sqlite_store.ingest, inbound)

    channel = spec(sqlite_store, "whatsapp", "wa", **meta_options("whatsapp", fake, tmp_path))
    conn = WhatsAppConnector(channel, sqlite_store, flaky_ingest)
    try:
        await hooks.start(conn.routes())
        fake.hook_url = hooks.url + webhook_path("whatsapp", "wa")
        async with aiohttp.ClientSession() as http:
            await conn.start(http)
            body = fake.wa_message("4915", "text", {"body": "снова"}, wamid="wamid.R")
            assert await fake.deliver(body) == 500  # the store was locked: Meta retries
            # A message that can never be stored is skipped, not retried for days.
            assert await fake.deliver(body) == 200
            assert sqlite_store.find_message(channel.id, "wamid.R") is None
            assert await fake.deliver(body) == 200
            assert sqlite_store.find_message(channel.id, "wamid.R") is not None
            await conn.stop()
    finally:
        await hooks.close()
        await fake.close()
