"""Refusals are logged (rate-limited) and store failures are answered by kind.

Over real HTTP on 127.0.0.1 with a real store: a message that can never be stored (a
channel that is gone from the database: the store's NotFound) is refused for good —
generic 422, web chat ``retry: false``, Telegram 200 and dropped (Telegram would
redeliver any non-2xx) — while a store that cannot commit right now is answered so
the sender tries again. The rate limiter is driven by a clock function, and
:func:`is_permanent` is checked on exceptions real drivers raise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import peewee as pw
import pytest

from connectors.base import ChannelSpec
from connectors.generic.connector import SIGNATURE_HEADER, sign
from connectors.outbox import OutboxWorker
from connectors.rejections import RejectionLog, is_permanent, printable
from connectors.telegram.connector import SECRET_HEADER, TelegramConnector, webhook_path
from connectors.writer import GroupCommitWriter
from storage.errors import NotFound
from storage.inputs import Inbound
from storage.models import utcnow
from storage.rows import ChannelRow
from storage.store import Store
from tests.connectors.fake_telegram import FakeTelegram
from tests.connectors.gateway_helpers import SECRET, eventually, running, spec
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import HookServer, all_messages, wait_for

GONE = 987_654  # a channel id the database does not hold


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def warnings_of(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith(name) and r.levelno == logging.WARNING]


# ---- the rate limiter -------------------------------------------------------------------
def test_rejections_are_logged_up_to_the_limit_then_summarized(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    rejections = RejectionLog(logging.getLogger("connectors.test"), "generic api /hooks/api",
                              limit=3, window=60, clock=clock)
    with caplog.at_level(logging.WARNING, "connectors.test"):
        for n in range(10):
            rejections.reject(f"reason {n}", 403, "10.0.0.1")
        lines = warnings_of(caplog, "connectors.test")
        assert lines == [f"generic api /hooks/api: refused a request from 10.0.0.1 (403): "
                         f"reason {n}" for n in range(3)]
        clock.now += 61  # next window: the held-back count first, then the new line
        rejections.reject("reason 10", 400)
        lines = warnings_of(caplog, "connectors.test")[3:]
        assert lines[0] == ("generic api /hooks/api: 7 more refused request(s) not logged one "
                            "by one in the last 60 s")
        assert lines[1] == "generic api /hooks/api: refused a request (400): reason 10"
        rejections.close()  # nothing held back: no summary line
        assert len(warnings_of(caplog, "connectors.test")) == 5


async def test_the_summary_comes_when_the_window_ends_without_a_new_rejection(
        caplog: pytest.LogCaptureFixture) -> None:
    rejections = RejectionLog(logging.getLogger("connectors.test"), "route", limit=1,
                              window=0.1)
    with caplog.at_level(logging.WARNING, "connectors.test"):
        for _ in range(4):
            rejections.reject("bad")
        assert len(warnings_of(caplog, "connectors.test")) == 1
        # until the window's timer has logged the summary (a deadline, not a fixed pause)
        await eventually(lambda: len(warnings_of(caplog, "connectors.test")) >= 2, timeout=5)
        assert len(warnings_of(caplog, "connectors.test")) == 2
        assert warnings_of(caplog, "connectors.test")[1].startswith(
            "route: 3 more refused request(s)")


def test_a_reason_cannot_forge_log_lines() -> None:
    assert printable("bad\nWARNING fake line\x1b[31m") == "bad\\nWARNING fake line\\x1b[31m"
    assert printable("Привет, мир") == "Привет, мир"
    assert len(printable("x" * 10_000)) == 300


# ---- which store errors are final ------------------------------------------------------
def test_is_permanent_on_real_errors(sqlite_path: Path, sqlite_store: Store) -> None:
    with pytest.raises(NotFound) as gone:
        sqlite_store.ingest(Inbound(channel_id=GONE, chat_id="c", sender_id="c", text="x",
                                    external_id="x"))
    assert is_permanent(gone.value)
    with pytest.raises(UnicodeEncodeError) as unencodable:  # what sqlite3 says to \ud800
        sqlite_store.db.execute_sql("SELECT ?", ("a\ud800",))
    assert is_permanent(unencodable.value)

    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    impatient = pw.SqliteDatabase(str(sqlite_path), timeout=0)
    try:
        with pytest.raises(pw.OperationalError) as locked:
            impatient.execute_sql("CREATE TABLE t (x)")
    finally:
        impatient.close()
        blocker.execute("ROLLBACK")
        blocker.close()
    assert "locked" in str(locked.value) and not is_permanent(locked.value)


async def test_a_writer_that_is_not_running_is_transient(sqlite_store: Store) -> None:
    with pytest.raises(Exception) as stopped:
        await GroupCommitWriter(sqlite_store).ingest(Inbound(
            channel_id=1, chat_id="c", sender_id="c", text="x", external_id="x"))
    assert not is_permanent(stopped.value)


# ---- generic ---------------------------------------------------------------------------
def generic_headers(body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}


async def test_generic_refusals_are_logged_and_a_message_never_storable_gets_422(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    gone = ChannelSpec(id=GONE, name="gone", kind="generic", options={"secret": SECRET})
    cases = [
        ("crm", b'{"id": "1", "chat_id": "c", "text": "a\xed\xa0\x80"}', 400, "UTF-8"),
        ("crm", b'{"id": "2", "chat_id": "c", "sent_at": 1e300}', 400, "sent_at"),
        ("crm", b'{"id": "3", "chat_id": "c", "sent_at": NaN}', 400, "sent_at"),
        ("gone", b'{"id": "4", "chat_id": "c", "text": "hi"}', 422, "does not exist"),
    ]
    with caplog.at_level(logging.WARNING):
        async with running(sqlite_store, [hook, gone]) as gw, aiohttp.ClientSession() as http:
            for name, body, status, reason in cases:
                caplog.clear()
                async with http.post(f"{gw.external_url()}/hooks/{name}", data=body,
                                     headers=generic_headers(body)) as response:
                    answer = await response.json()
                assert response.status == status, (body, answer)
                assert reason in answer["error"]
                [line] = warnings_of(caplog, "connectors.generic.connector")
                assert f"({status}): " in line and reason in line
                assert SECRET not in line
    assert sqlite_store.count_tasks() == 0


async def test_generic_bad_signature_flood_is_rate_limited(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    with caplog.at_level(logging.WARNING):
        async with running(sqlite_store, [hook]) as gw, aiohttp.ClientSession() as http:
            for n in range(30):
                async with http.post(f"{gw.external_url()}/hooks/crm", data=b"{}",
                                     headers={SIGNATURE_HEADER: f"sha256={n:064x}"}) as r:
                    assert r.status == 403
        lines = warnings_of(caplog, "connectors.generic.connector")
    assert len([x for x in lines if "signature does not match" in x]) == 20
    assert any("10 more refused request(s)" in x for x in lines)  # flushed at stop


async def test_http_server_logs_a_413(sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    with caplog.at_level(logging.WARNING):
        async with running(sqlite_store, [hook], max_body_bytes=1000) as gw, \
                aiohttp.ClientSession() as http:
            async with http.post(f"{gw.external_url()}/hooks/crm", data=b"x" * 2000) as r:
                assert r.status == 413
    [line] = warnings_of(caplog, "connectors.http_server")
    assert "POST /hooks/crm" in line and "(413)" in line


# ---- web chat --------------------------------------------------------------------------
async def ws_answer(url: str, text: str = "привет", mid: str = "m1") -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"type": "hello", "token": "visitor-token-0123456789ab"}))
        await ws.send_str(json.dumps({"type": "message", "id": mid, "text": text}))
        while True:
            data = json.loads((await ws.receive(timeout=10)).data)
            if data.get("id") == mid:
                return data


async def test_webchat_message_never_storable_is_refused_for_good(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    gone = ChannelSpec(id=GONE, name="web", kind="webchat", options={})
    with caplog.at_level(logging.WARNING):
        async with running(sqlite_store, [gone]) as gw:
            answer = await ws_answer(f"{gw.external_url()}/chat/web/ws")
    assert answer["type"] == "error" and answer["retry"] is False, answer
    assert "does not exist" in answer["text"]
    assert any("does not exist" in x for x in warnings_of(caplog, "connectors.webchat"))


async def test_webchat_store_unavailable_asks_the_page_to_send_again(
        sqlite_path: Path, sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    other = sqlite3.connect(sqlite_path, isolation_level=None)
    other.execute("CREATE TRIGGER refuse BEFORE INSERT ON message "
                  "BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
    other.close()
    async with running(sqlite_store, [web]) as gw:
        answer = await ws_answer(f"{gw.external_url()}/chat/web/ws")
    assert answer["type"] == "error" and answer["retry"] is True, answer
    assert sqlite_store.count_tasks() == 0


async def test_webchat_frame_refusals_are_logged(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    web = spec(sqlite_store, "webchat", "web")
    with caplog.at_level(logging.WARNING):
        async with running(sqlite_store, [web]) as gw, aiohttp.ClientSession() as http, \
                http.ws_connect(f"{gw.external_url()}/chat/web/ws") as ws:
            await ws.send_str('{"type": "message", "id": "early", "text": "x"}')  # no hello
            await ws.send_bytes(b"\x00\x01")
            await ws.send_str("[1, 2]")
            await ws.send_str(json.dumps({"type": "hello", "token": "visitor-token-0123456789ab"}))
            await ws.send_str('{"type": "dance"}')
            await ws.send_str('{"type": "receipt", "ids": "all", "state": "read"}')
            await ws.send_str('{"type": "message", "id": "e", "text": "   "}')
            await ws.send_str('{"type": "message", "id": "ok", "text": "fine"}')
            errors = []
            while True:
                data = json.loads((await ws.receive(timeout=10)).data)
                if data["type"] == "error":
                    errors.append(data)
                if data.get("id") == "ok":
                    break
    assert data["type"] == "ack"
    assert all(e["retry"] is False and e["text"].strip() for e in errors)
    lines = warnings_of(caplog, "connectors.webchat")
    for reason in ("Say hello first", "binary frame", "not a JSON object",
                   "Unknown message type", "receipt without", "The message is empty"):
        assert any(reason in x for x in lines), (reason, lines)


# ---- Telegram --------------------------------------------------------------------------
async def test_telegram_update_never_storable_is_answered_200_and_dropped(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow,
        caplog: pytest.LogCaptureFixture) -> None:
    """Telegram redelivers any non-2xx and holds later updates back meanwhile: an update
    that can never be stored is acknowledged, logged and dropped."""
    conn: TelegramConnector = make_connector(channel=dataclasses.replace(tg_channel, id=GONE),
                                             mode="webhook", public_url=hook_server.url,
                                             webhook_secret="s3cret-hook")
    await hook_server.start(conn.routes())
    await conn.start(session)
    try:
        with caplog.at_level(logging.WARNING):
            update = fake.push_message("в никуда")
            await wait_for(lambda: fake.deliveries, what="a delivery")
        assert fake.deliveries == [(update["update_id"], 200)]
        assert any("cannot be stored, dropped" in x and "does not exist" in x
                   for x in warnings_of(caplog, "switchboard.telegram"))
        assert all_messages(sqlite_store, tg_channel.id) == []
        caplog.clear()
        with caplog.at_level(logging.WARNING):  # and a refused request is logged
            async with session.post(hook_server.url + webhook_path(tg_channel.name), data=b"{}",
                                    headers={SECRET_HEADER: "wrong"}) as resp:
                assert resp.status == 403
        [line] = warnings_of(caplog, "switchboard.telegram")
        assert "(403)" in line and "s3cret-hook" not in line
    finally:
        await conn.stop()


async def test_telegram_poller_moves_past_an_update_never_storable(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn: TelegramConnector = make_connector(channel=dataclasses.replace(tg_channel, id=GONE))
    await conn.start(session)
    try:
        update = fake.push_message("в никуда")
        key = f"telegram:{GONE}:offset"
        await wait_for(lambda: sqlite_store.get_state(key) == str(update["update_id"] + 1),
                       what="the offset past the dropped update")
    finally:
        await conn.stop()


# ---- the outbox worker's due-time race -------------------------------------------------
async def test_outbox_claims_again_when_a_retry_falls_due_between_claim_and_read(
        sqlite_store: Store) -> None:
    """A retry due a few milliseconds after the claim used to be seen as "due now but
    not claimable", and the worker slept for minutes. Now it claims once more."""
    api = sqlite_store.ensure_channel("generic", "api", {})
    op = sqlite_store.ensure_operator("Anna")
    task = sqlite_store.ingest(Inbound(channel_id=api.id, chat_id="c", sender_id="c",
                                       text="hi", external_id="in")).task
    reply = sqlite_store.reply(task.id, op.id, "answer")
    [item] = sqlite_store.claim_outbox(1, None, (api.id,))
    sqlite_store.schedule_retry(reply.id, utcnow(), "try again")  # due: now
    worker = OutboxWorker(sqlite_store, {})  # serves no channel: nothing is claimable
    await asyncio.wait_for(worker._sleep_until_due(), 2)  # first time: returns at once
    assert not worker.waiting.is_set()  # it returned to claim again, it did not wait
    second = asyncio.create_task(worker._sleep_until_due())
    await asyncio.wait_for(worker.waiting.wait(), 5)  # the second call blocks waiting...
    assert not second.done(), "same due time, still nothing claimable: wait for an event"
    worker._wake.set()
    await asyncio.wait_for(second, 2)
    assert item.message_id == reply.id
