"""Web chat files over real HTTP and the websocket: a visitor's upload (stored
content-addressed, ingested once, pushed to the page), its refusals (oversized 413, a
forged token or a foreign origin 403, nothing stored), and the operators' files reaching
the page as signed download links that open only that visitor's own files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.gateway import Gateway
from connectors.webchat.connector import chat_id_for
from connectors.webchat.upload import TOKEN_HEADER
from storage.inputs import AttachmentIn
from storage.models import SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.webchat_client import Visitor

CAP = 2000


@pytest.fixture
async def gateway(sqlite_store: Store, tmp_path: Path) -> AsyncIterator[Gateway]:
    web = spec(sqlite_store, "webchat", "web", media_dir=str(tmp_path / "media"),
               max_upload_bytes=CAP)
    async with running(sqlite_store, [web]) as gw:
        yield gw


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, gw: Gateway, token: str | None, data: bytes,
               client_id: str = "f1", **headers: str) -> tuple[int, dict[str, Any]]:
    headers["Content-Type"] = "application/pdf"
    if token is not None:
        headers[TOKEN_HEADER] = token
    async with http.post(f"{gw.external_url()}/chat/web/upload",
                         params={"id": client_id, "file": "C:\\tmp\\чек.pdf"},
                         data=data, headers=headers) as response:
        text = await response.text()
        return response.status, (await response.json() if response.content_type
                                 == "application/json" else {"error": text})


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def inbound_count(store: Store) -> int:
    return sum(1 for t in store.list_tasks().items
               for m in store.thread_before(t.id, None, 100).items if m.kind == "inbound")


async def test_a_visitors_file_is_stored_once_and_shown_as_a_link(
        gateway: Gateway, http: aiohttp.ClientSession, sqlite_store: Store,
        tmp_path: Path) -> None:
    visitor = Visitor(http, f"{gateway.external_url()}/chat/web/ws")
    await visitor.connect()
    data = b"%PDF-1.4 receipt"
    status, answer = await post(http, gateway, visitor.token, data)
    assert status == 200 and answer["id"] == "f1"
    pushed = await visitor.receive("message")
    assert pushed["id"] == answer["message_id"] and pushed["from"] == "visitor"
    message = sqlite_store.get_message(answer["message_id"])
    assert message.chat_id == chat_id_for(visitor.token or "")
    [att] = message.attachments
    assert (att.name, att.mime, att.size) == ("чек.pdf", "application/pdf", len(data))
    assert Path(att.location).read_bytes() == data and Path(att.location).is_relative_to(
        tmp_path / "media")
    # A resend (same id) stores nothing new.
    assert (await post(http, gateway, visitor.token, data))[1]["message_id"] == message.id
    assert inbound_count(sqlite_store) == 1 and len(stored_files(tmp_path)) == 1
    [link] = pushed["files"]
    async with http.get(gateway.external_url() + link["url"]) as response:
        assert response.status == 200 and await response.read() == data
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    await visitor.close()


async def test_refusals_store_nothing(gateway: Gateway, http: aiohttp.ClientSession,
                                      sqlite_store: Store, tmp_path: Path) -> None:
    visitor = Visitor(http, f"{gateway.external_url()}/chat/web/ws")
    await visitor.connect()
    status, answer = await post(http, gateway, visitor.token, b"x" * (CAP + 1))
    assert status == 413 and answer["error"] == "The file is too large: at most 2 KB."
    forged = (visitor.token or "")[:-4] + "AAAA"
    status, answer = await post(http, gateway, forged, b"small")
    assert status == 403 and answer["error"]
    assert (await post(http, gateway, None, b"small"))[0] == 403
    status, _answer = await post(http, gateway, visitor.token, b"small",
                                 Origin="https://evil.example")
    assert status == 403
    assert (await post(http, gateway, visitor.token, b"small", client_id="bad id!"))[0] == 400
    assert inbound_count(sqlite_store) == 0 and stored_files(tmp_path) == []
    await visitor.close()


async def test_operator_files_are_links_only_for_their_own_visitor(
        gateway: Gateway, http: aiohttp.ClientSession, sqlite_store: Store,
        tmp_path: Path) -> None:
    url = f"{gateway.external_url()}/chat/web/ws"
    anna, boris = Visitor(http, url), Visitor(http, url)
    await anna.connect()
    await boris.connect()
    asked = await anna.say("Пришлите счёт", "a1")
    await boris.say("А мне?", "b1")
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF invoice for Anna")
    task_id = sqlite_store.get_message(asked["message_id"]).task_id
    op = sqlite_store.ensure_operator("Оля").id
    reply = sqlite_store.reply(task_id, op, "Вот счёт", attachments=(AttachmentIn(
        "invoice.pdf", "application/pdf", invoice.stat().st_size, str(invoice)),))
    frame = await anna.receive("message")
    assert frame["id"] == reply.id
    [link] = frame["files"]
    async with http.get(gateway.external_url() + link["url"]) as response:
        assert response.status == 200 and await response.read() == b"%PDF invoice for Anna"
    await eventually(lambda: sqlite_store.get_message(reply.id).delivery_state == SENT)
    # Boris's own link's key does not open Anna's message; a changed index or a made-up
    # key opens nothing either.
    await boris.connect(boris.token)
    status, boris_upload = await post(http, gateway, boris.token, b"boris file", "b2")
    assert status == 200
    boris_frame = await boris.receive("message")
    boris_key = boris_frame["files"][0]["url"].rsplit("k=", 1)[1]
    base = f"{gateway.external_url()}/chat/web/file"
    for query in (f"m={reply.id}&i=0&k={boris_key}", f"m={reply.id}&i=1&k=" + "0" * 32,
                  f"m={boris_upload['message_id']}&i=0&k=" + link["url"].rsplit("k=", 1)[1]):
        async with http.get(f"{base}?{query}") as response:
            assert response.status == 404
    # The history carries the links too.
    history = await anna.connect(anna.token)
    [again] = [m for m in history["messages"] if m["id"] == reply.id]
    assert again["files"] == frame["files"]
    await anna.close()
    await boris.close()


async def test_an_upload_may_exceed_the_servers_body_cap(
        sqlite_store: Store, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    """``max_upload_bytes`` is the upload route's own cap: a file larger than the server's
    ``max_body_bytes`` (webhooks, frames) but within it is stored; other routes keep the
    server's cap."""
    web = spec(sqlite_store, "webchat", "web", media_dir=str(tmp_path / "media"),
               max_upload_bytes=50_000)
    async with running(sqlite_store, [web], max_body_bytes=10_000) as gw:
        visitor = Visitor(http, f"{gw.external_url()}/chat/web/ws")
        await visitor.connect()
        data = b"%PDF" + b"x" * 30_000
        status, answer = await post(http, gw, visitor.token, data)
        assert status == 200, answer
        [att] = sqlite_store.get_message(answer["message_id"]).attachments
        assert Path(att.location).read_bytes() == data
        status, _answer = await post(http, gw, visitor.token, b"y" * 60_000, client_id="f2")
        assert status == 413
        async with http.post(f"{gw.external_url()}/chat/web/ws", data=b"z" * 20_000) as r:
            assert r.status == 413  # any other route: the server's cap
        await visitor.close()
    assert inbound_count(sqlite_store) == 1
