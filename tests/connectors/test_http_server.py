"""The shared HTTP server and the signed-webhook rules, over real HTTP on 127.0.0.1.

Uses the ``generic`` channel's webhook (HMAC signature header) as the example route:
the rules proved here — auth before payload, body cap, 2xx only after commit,
idempotent delivery — are the server's and the writer's, shared by every connector.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.gateway import Gateway
from connectors.generic.connector import SIGNATURE_HEADER, sign
from connectors.http_server import HttpServer
from storage.models import INBOUND
from storage.store import Store
from tests.connectors.gateway_helpers import SECRET, running, spec


def payload(mid: str = "m-1", chat: str = "c-1", text: str = "Привет") -> bytes:
    return json.dumps({"id": mid, "chat_id": chat, "text": text, "name": "Иван"},
                      ensure_ascii=False).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def messages_in(store: Store, channel_id: int) -> int:
    M = store.m.Message
    return M.select().where((M.channel == channel_id) & (M.kind == INBOUND)).count()


async def test_webhook_delivered_twice_stores_one_message(sqlite_store: Store) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
        url = f"{gw.external_url()}/hooks/crm"
        body = payload()
        async with http.post(url, data=body, headers=signed(body)) as r1:
            first = await r1.json()
        async with http.post(url, data=body, headers=signed(body)) as r2:
            second = await r2.json()
    assert r1.status == r2.status == 200
    assert first["duplicate"] is False and second["duplicate"] is True
    assert first["message_id"] == second["message_id"]
    assert messages_in(sqlite_store, hook.id) == 1
    task = sqlite_store.get_task(first["task_id"])
    assert task.contact_name == "Иван"


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({SIGNATURE_HEADER: "sha256=" + "0" * 64}, 403),
    ({SIGNATURE_HEADER: sign("wrong-secret", payload())}, 403),
])
async def test_bad_secret_is_refused_and_stores_nothing(sqlite_store: Store, headers: dict[str, str],
                                                        status: int) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
        async with http.post(f"{gw.external_url()}/hooks/crm", data=payload(),
                             headers=headers) as response:
            answer = await response.json()
    assert response.status == status
    assert answer["ok"] is False and answer["error"]
    assert messages_in(sqlite_store, hook.id) == 0
    assert sqlite_store.count_tasks() == 0


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_body_gets_413_and_stores_nothing(sqlite_store: Store, chunked: bool) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    body = payload(text="x" * 5000)
    async with running(sqlite_store, [hook], max_body_bytes=1024) as gw, \
            aiohttp.ClientSession() as http:
        url = f"{gw.external_url()}/hooks/crm"
        if chunked:  # no Content-Length: the cap must hold while reading
            async def stream():  # type: ignore[no-untyped-def]
                for i in range(0, len(body), 256):
                    yield body[i:i + 256]
            data = stream()
        else:
            data = body
        async with http.post(url, data=data, headers=signed(body)) as response:
            text = await response.text()
    assert response.status == 413
    assert "1024 bytes" in text
    assert messages_in(sqlite_store, hook.id) == 0


async def test_2xx_only_after_commit(sqlite_path: Path, sqlite_store: Store) -> None:
    """While another connection holds the database's write lock, the webhook is not
    answered; once the lock is released it is answered 200 and the row is durable.

    No timed wait: the test records, in order, the lock taken, the lock released, the
    writer's commit returning (``store.ingest_many``, the real one, wrapped) and the
    server preparing its answer (aiohttp's ``on_response_prepare``), and checks that
    order; the lock is released once the writer is inside its commit."""
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    loop = asyncio.get_running_loop()
    order: list[str] = []
    in_commit = asyncio.Event()
    real_ingest_many = sqlite_store.ingest_many

    def ingest_many(batch: list[Any]) -> Any:
        loop.call_soon_threadsafe(in_commit.set)
        results = real_ingest_many(batch)
        order.append("committed")
        return results

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        if request.path == "/hooks/crm":
            order.append(f"answered {response.status}")

    sqlite_store.ingest_many = ingest_many  # type: ignore[method-assign]
    gateway = Gateway(sqlite_store, [hook], port=0)
    gateway.server.app.on_response_prepare.append(on_prepare)
    await gateway.start()
    try:
        async with aiohttp.ClientSession() as http:
            blocker = sqlite3.connect(sqlite_path, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
            order.append("locked")
            body = payload(mid="locked")
            request = asyncio.create_task(http.post(f"{gateway.external_url()}/hooks/crm",
                                                    data=body, headers=signed(body)))
            await asyncio.wait_for(in_commit.wait(), 10)  # the writer met the lock
            assert not request.done(), "answered before the message could be committed"
            order.append("released")
            blocker.execute("ROLLBACK")
            blocker.close()
            response = await asyncio.wait_for(request, 10)
            assert response.status == 200
            answer = await response.json()
            response.release()
    finally:
        await gateway.stop()
    assert order == ["locked", "released", "committed", "answered 200"], order
    # A separate connection (another process could do the same) sees it: it is committed.
    other = Store.open(str(sqlite_path))
    try:
        assert other.find_message(hook.id, "locked").id == answer["message_id"]
    finally:
        other.close()


async def test_no_2xx_when_the_commit_cannot_happen(sqlite_path: Path, sqlite_store: Store) -> None:
    """The database refuses the insert (a trigger stands in for a full disk): the
    webhook is answered 503, never 2xx, and nothing is stored."""
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    other = sqlite3.connect(sqlite_path, isolation_level=None)
    other.execute("CREATE TRIGGER refuse BEFORE INSERT ON message "
                  "BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
    other.close()
    async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
        body = payload(mid="never")
        async with http.post(f"{gw.external_url()}/hooks/crm", data=body,
                             headers=signed(body)) as response:
            answer = await response.json()
    assert response.status == 503
    assert "deliver it again" in answer["error"]
    assert sqlite_store.find_message(hook.id, "never") is None
    assert sqlite_store.count_tasks() == 0  # the whole transaction rolled back


async def test_bad_json_is_a_clear_400(sqlite_store: Store) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
        for body in (b"{not json", b"[1, 2]", json.dumps({"id": "x", "text": "no chat"}).encode()):
            async with http.post(f"{gw.external_url()}/hooks/crm", data=body,
                                 headers=signed(body)) as response:
                answer = await response.json()
            assert response.status == 400, body
            assert answer["error"]
    assert messages_in(sqlite_store, hook.id) == 0


async def test_health_route_reports_each_channel(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    broken = spec(sqlite_store, "generic", "nosecret")  # no secret: cannot run
    async with running(sqlite_store, [web, broken]) as gw, aiohttp.ClientSession() as http:
        for _ in range(500):
            if gw.health()["nosecret"][0] == "failed" and gw.health()["web"][0] == "ok":
                break
            await asyncio.sleep(0.02)
        async with http.get(f"{gw.external_url()}/health") as response:
            answer = await response.json()
    assert response.status == 503
    assert answer["ok"] is False
    assert answer["channels"]["web"]["state"] == "ok"
    assert answer["channels"]["nosecret"]["state"] == "failed"
    assert "options.secret" in answer["channels"]["nosecret"]["detail"]


async def test_port_taken_falls_back_with_a_clear_notice() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    server = HttpServer("127.0.0.1", port)
    try:
        bound = server.bind()
        assert bound != port and bound > 0
        assert str(port) in server.notice and str(bound) in server.notice
        await server.start()
        async with aiohttp.ClientSession() as http, http.get(f"{server.base_url()}/health") as r:
            assert r.status == 200
    finally:
        await server.stop()
        taken.close()


def test_an_unusable_address_is_a_clear_error() -> None:
    from storage.errors import SwitchboardError

    server = HttpServer("203.0.113.7", 8780)  # TEST-NET-3: never a local address
    with pytest.raises(SwitchboardError, match=r"Cannot listen on 203\.0\.113\.7:8780"):
        server.bind()
