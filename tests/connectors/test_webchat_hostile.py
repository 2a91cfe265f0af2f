"""The web chat against hostile and careless clients, over real websockets on 127.0.0.1:
foreign origins, forged tokens, floods, new-visitor floods, odd channel names, oversized
page data, merged conversations, and history beyond one page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest

from connectors.http_server import ServerLimits
from connectors.webchat.identity import chat_id_for
from storage.models import INBOUND, SENDING, SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.webchat_client import Visitor


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def ws_url(base: str, name: str = "web") -> str:
    return f"{base}/chat/{quote(name, safe='')}/ws"


async def test_a_foreign_origin_gets_403_and_no_token(sqlite_store: Store,
                                                      http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web", allowed_origins=["https://shop.example"])
    async with running(sqlite_store, [web]) as gw:
        base = gw.external_url()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Visitor(http, ws_url(base), origin="http://evil.example").connect()
        assert refused.value.status == 403
        async with http.get(f"{base}/chat/web", headers={"Origin": "http://evil.example"}) as r:
            assert r.status == 403
        for origin in (base, "https://shop.example", "https://SHOP.example:443"):
            visitor = Visitor(http, ws_url(base), origin=origin)
            await visitor.connect()
            assert visitor.token
            await visitor.close()
        async with http.get(f"{base}/chat/web") as page:
            assert page.status == 200
            assert "frame-ancestors 'self' https://shop.example" in page.headers[
                "Content-Security-Policy"]


async def test_a_token_the_server_never_issued_gets_a_fresh_identity(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web")
    other = spec(sqlite_store, "webchat", "other")
    async with running(sqlite_store, [web, other]) as gw:
        base = gw.external_url()
        forged = "a" * 24
        visitor = Visitor(http, ws_url(base))
        await visitor.connect(token=forged)
        assert visitor.token != forged and chat_id_for(visitor.token) != chat_id_for(forged)
        issued = visitor.token
        await visitor.close()
        elsewhere = Visitor(http, ws_url(base, "other"))  # bound to its channel
        await elsewhere.connect(token=issued)
        assert elsewhere.token != issued
        await elsewhere.close()
        tampered = issued[:-1] + ("A" if issued[-1] != "A" else "B")
        again = Visitor(http, ws_url(base))
        await again.connect(token=tampered)
        assert again.token not in (tampered, issued)
        await again.close()
    # Issued tokens survive a restart (the secret is in the database) and are unguessable.
    async with running(sqlite_store, [web]) as gw:
        back = Visitor(http, ws_url(gw.external_url()))
        await back.connect(token=issued)
        assert back.token == issued
        await back.close()
    assert len(issued) == 44 and len({issued, elsewhere.token, again.token}) == 3


async def test_a_flood_of_messages_is_refused_and_nothing_acknowledged_is_lost(
        sqlite_store: Store, http: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    web = spec(sqlite_store, "webchat", "web")
    caplog.set_level(logging.WARNING)
    async with running(sqlite_store, [web]) as gw:
        visitor = Visitor(http, ws_url(gw.external_url()))
        await visitor.connect()
        assert visitor.ws is not None
        for i in range(300):
            await visitor.ws.send_json({"type": "message", "id": f"m{i}", "text": f"flood {i}"})
        answers: dict[str, dict] = {}
        while len(answers) < 300:
            frame = await _ack_or_error(visitor)
            answers[frame["id"]] = frame
        await visitor.close()
    acked = {cid: f["message_id"] for cid, f in answers.items() if f["type"] == "ack"}
    refused = [f for f in answers.values() if f["type"] == "error"]
    assert 10 <= len(acked) <= 12  # the burst (plus what refilled meanwhile)
    assert all(f["retry"] is True and f["retry_after"] >= 1 for f in refused)
    task_id = sqlite_store.get_message(next(iter(acked.values()))).task_id
    texts = [m.text for m in sqlite_store.thread_before(task_id, limit=500).items
             if m.kind == INBOUND]
    assert sorted(texts) == sorted(f"flood {cid[1:]}" for cid in acked)
    assert 1 <= sum("too fast" in r.getMessage() or "messages at once" in r.getMessage()
                    for r in caplog.records) <= 20


async def test_every_older_request_is_answered_even_over_the_pace(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    """A page waits for the answer to ``older`` before it asks for another page, so an
    ``older`` over the visitor's frame allowance is answered too: no page, and when to
    ask again (it used to be dropped, and the page never loaded older messages again
    until it reconnected)."""
    web = spec(sqlite_store, "webchat", "web")
    limits = ServerLimits(visitor_messages_per_second=0.05, visitor_burst=1)  # frames: 1/s, 20
    async with running(sqlite_store, [web], limits=limits) as gw:
        visitor = Visitor(http, ws_url(gw.external_url()))
        await visitor.connect()
        assert visitor.ws is not None
        for _ in range(30):
            await visitor.ws.send_json({"type": "older", "before": [2**50, 10**9]})
        answers = [await visitor.receive("older") for _ in range(30)]
        await visitor.close()
    paced = [a for a in answers if "retry_after" in a]
    assert 8 <= len(paced) <= 12  # over the burst of 20 (plus what refilled meanwhile)
    assert all(a["messages"] == [] and a["retry_after"] >= 1 for a in paced)
    assert all("before" in a for a in answers if "retry_after" not in a)


async def _ack_or_error(visitor: Visitor) -> dict:
    assert visitor.ws is not None
    while True:
        frame = await asyncio.wait_for(visitor.ws.receive_json(), 10)
        if frame["type"] in ("ack", "error"):
            return frame


async def test_a_page_that_resends_after_retry_after_gets_everything_stored_once(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web")
    limits = ServerLimits(visitor_messages_per_second=20, visitor_burst=5)
    async with running(sqlite_store, [web], limits=limits) as gw:
        visitor = Visitor(http, ws_url(gw.external_url()))
        await visitor.connect()
        assert visitor.ws is not None
        queue = {f"q{i}": f"queued {i}" for i in range(40)}
        stored: dict[str, int] = {}
        while queue:
            for cid, text in queue.items():
                await visitor.ws.send_json({"type": "message", "id": cid, "text": text})
            wait = 0
            for _ in range(len(queue)):
                frame = await _ack_or_error(visitor)
                if frame["type"] == "ack":
                    stored[frame["id"]] = frame["message_id"]
                    queue.pop(frame["id"], None)
                else:
                    wait = max(wait, frame["retry_after"])
            if queue:  # as the page does: hold the queue for retry_after, then resend
                await asyncio.sleep(wait)
        await visitor.close()
    assert len(stored) == 40 and len(set(stored.values())) == 40
    task_id = sqlite_store.get_message(stored["q0"]).task_id
    assert sum(m.kind == INBOUND for m in sqlite_store.thread_before(task_id,
                                                                      limit=100).items) == 40


async def test_new_visitors_per_address_are_limited(sqlite_store: Store,
                                                    http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web")
    async with running(sqlite_store, [web], limits=ServerLimits(new_chats_per_minute=3)) as gw:
        url = ws_url(gw.external_url())
        first = Visitor(http, url)
        await first.connect()
        for _ in range(2):
            ok = Visitor(http, url)
            await ok.connect()
            await ok.close()
        ws = await http.ws_connect(url)
        await ws.send_json({"type": "hello", "token": None})
        error = await ws.receive_json(timeout=10)
        assert error["type"] == "error" and error["retry"] is True and error["retry_after"] >= 1
        closing = await ws.receive(timeout=10)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1013
        await ws.close()
        await first.close()
        again = Visitor(http, url)  # a known visitor is never held back
        await again.connect(token=first.token)
        assert again.token == first.token
        await again.close()
    assert sqlite_store.count_tasks() == 0


@pytest.mark.parametrize("name", ["поддержка", "support team"])
async def test_any_channel_name_serves_page_and_socket(sqlite_store: Store,
                                                       http: aiohttp.ClientSession,
                                                       name: str) -> None:
    web = spec(sqlite_store, "webchat", name)
    async with running(sqlite_store, [web]) as gw:
        printed = next(line for line in gw.addresses() if "/chat/" in line).split(": ", 1)[1]
        async with http.get(aiohttp.client.URL(printed, encoded=True)) as page:
            assert page.status == 200
        visitor = Visitor(http, aiohttp.client.URL(printed + "/ws", encoded=True))
        await visitor.connect()
        ack = await visitor.say("привет", "c1")
        await visitor.close()
    assert sqlite_store.get_message(ack["message_id"]).channel_id == web.id


async def test_an_oversized_hello_is_closed_and_the_reason_logged(
        sqlite_store: Store, http: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    web = spec(sqlite_store, "webchat", "web")
    caplog.set_level(logging.WARNING)
    async with running(sqlite_store, [web]) as gw:
        ws = await http.ws_connect(ws_url(gw.external_url()))
        await ws.send_json({"type": "hello", "page": "https://shop.example/?" + "x" * 70_000})
        closing = await ws.receive(timeout=10)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1009
        await ws.close()
        await eventually(lambda: any(
            "closed a socket from 127.0.0.1: code 1009: WebSocketError: Message size" in
            r.getMessage() for r in caplog.records))


async def test_history_is_paged_and_every_reply_sent_while_away_can_be_seen(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with running(sqlite_store, [web]) as gw:
        visitor = Visitor(http, ws_url(gw.external_url()))
        await visitor.connect()
        ack = await visitor.say("вопрос", "q1")
        await visitor.close()
        task_id = sqlite_store.get_message(ack["message_id"]).task_id
        replies = [sqlite_store.reply(task_id, operator.id, f"ответ {i}").id for i in range(260)]
        await eventually(lambda: all(sqlite_store.get_message(r).delivery_state == SENT
                                     for r in replies[-1:]), timeout=30)
        sqlite_store.note(task_id, operator.id, "PRIVATE note")
        await visitor.connect()
        assert len(visitor.history) == 50 and visitor.before is not None
        everything = await visitor.older() + visitor.history
        await visitor.close()
    assert [m["id"] for m in everything] == [ack["message_id"], *replies]
    assert all("PRIVATE" not in m["text"] for m in everything)


async def test_merged_visitors_each_see_only_their_own_conversation(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with running(sqlite_store, [web]) as gw:
        url = ws_url(gw.external_url())
        alice, bob = Visitor(http, url), Visitor(http, url)
        await alice.connect()
        await bob.connect()
        a = await alice.say("Alice: my card ends 4242", "a1")
        b = await bob.say("Bob: my address is Lenina 1", "b1")
        task_a = sqlite_store.get_message(a["message_id"]).task_id
        task_b = sqlite_store.get_message(b["message_id"]).task_id
        sqlite_store.reply(task_a, operator.id, "to Alice")
        sqlite_store.reply(task_b, operator.id, "to Bob")
        await alice.receive("message")
        await bob.receive("message")
        sqlite_store.merge_tasks(task_a, [task_b], operator.id, different_clients_ok=True)
        after = sqlite_store.reply(task_a, operator.id, "after the merge, to Alice")
        await alice.receive("message")
        await eventually(lambda: sqlite_store.get_message(after.id).delivery_state
                         not in (None, "queued", SENDING))
        await alice.close()
        await bob.close()
        await alice.connect()
        await bob.connect()
        seen_a = [m["text"] for m in alice.history]
        seen_b = [m["text"] for m in bob.history]
        bob_frames = list(bob.frames)
        await alice.close()
        await bob.close()
    assert seen_a == ["Alice: my card ends 4242", "to Alice", "after the merge, to Alice"]
    assert seen_b == ["Bob: my address is Lenina 1", "to Bob"]
    assert not any("Alice" in str(f) for f in bob_frames)
