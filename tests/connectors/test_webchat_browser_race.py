"""In a real browser (headless Chromium over the DevTools protocol): no reply is lost
while the page reconnects again and again during a 200-reply delivery, older messages
load as the visitor scrolls up, and receipts kept by the page survive a server killed
with SIGKILL (a real serving child process on the same SQLite file)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from connectors.http_server import ServerLimits
from connectors.webchat import visitor_socket
from connectors.webchat.history import PAGE_SIZE, HistoryPage, history_page
from storage.models import DELIVERED, READ, SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.test_webchat_browser import CHROMIUM, Page, chromium
from tests.connectors.test_webchat_race import delivered, serving

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary: apt-get install "
                                 "chromium to run the browser end-to-end test")]

CONNECTED = "document.getElementById('status').textContent === 'Connected'"
DISCONNECTED = "document.getElementById('status').textContent !== 'Connected'"
OPERATOR_TEXTS = ("Array.from(document.querySelectorAll('#log .msg.operator .text'))"
                  ".map(e => e.textContent)")


async def visitor_writes(page: Page, text: str) -> None:
    await page.js("document.getElementById('input').focus(); true")
    await page.call("Input.insertText", text=text)
    await page.js("document.getElementById('send').click(); true")


async def scrolled_to_the_top_shows(page: Page, count: int, timeout: float = 60.0) -> None:
    """Scroll up (as a visitor would) until ``count`` operator messages are shown."""
    await page.until("(document.getElementById('log').scrollTop = 0, "
                     f"document.querySelectorAll('#log .msg.operator').length >= {count})",
                     timeout)


async def cut_every_socket(connector: Any) -> None:
    """Close every open socket of the channel's pages, as a server restart would."""
    for session in connector.pages.all():
        await session.ws.close(code=1012, message=b"test restart")


async def reconnected_showing(page: Page, count: int) -> None:
    """Wait for the page to drop its socket, reconnect and show a new history of ``count``."""
    await page.until(DISCONNECTED)
    await page.until(f"{CONNECTED} && "
                     f"document.querySelectorAll('#log .msg.operator').length === {count}", 30)


async def test_many_reconnects_during_200_replies_lose_nothing(tmp_path: Path,
                                                               sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with running(sqlite_store, [web]) as gw, chromium(tmp_path) as page:
        await page.call("Page.navigate", url=f"{gw.external_url()}/chat/web")
        await page.until(CONNECTED)
        await visitor_writes(page, "Жду двести ответов")
        task = await eventually(lambda: (sqlite_store.list_tasks().items or [None])[0])
        connector = gw.connectors["web"]

        def write() -> list[int]:
            return [sqlite_store.reply(task.id, operator.id, f"ответ {i:03d}").id
                    for i in range(200)]

        writing = asyncio.ensure_future(asyncio.to_thread(write))
        cuts = 0
        while not (writing.done() and await asyncio.to_thread(
                delivered, sqlite_store, writing.result(), (SENT, DELIVERED, READ))):
            # Cut every open socket of the page; it reconnects (history + live again).
            await cut_every_socket(connector)
            cuts += 1
            await page.until(CONNECTED, 30)
        replies = await writing
        await scrolled_to_the_top_shows(page, 200)
        texts = await page.js(OPERATOR_TEXTS)
        assert texts == [f"ответ {i:03d}" for i in range(200)]  # each once, in order
        await eventually(lambda: delivered(sqlite_store, replies, (READ,)), timeout=60)
        await page.until("localStorage.getItem('switchboard.webchat.web.receipts') === '{}'")
    assert cuts >= 3


async def test_receipts_the_page_keeps_survive_a_server_sigkill(
        tmp_path: Path, sqlite_path: Path, sqlite_store: Store) -> None:
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with chromium(tmp_path) as page:
        async with serving(sqlite_path) as (port, proc):
            await page.call("Page.navigate", url=f"http://127.0.0.1:{port}/chat/web")
            await page.until(CONNECTED)
            await visitor_writes(page, "вопрос")
            task = await eventually(lambda: (sqlite_store.list_tasks().items or [None])[0])
            replies = [sqlite_store.reply(task.id, operator.id, f"ответ {i}").id
                       for i in range(40)]
            await page.until("document.querySelectorAll('#log .msg.operator').length >= 20")
            os.kill(proc.pid, signal.SIGKILL)  # in the middle of pushes and receipts
            await proc.wait()
        await page.until(DISCONNECTED)
        kept = json.loads(await page.js(
            "localStorage.getItem('switchboard.webchat.web.receipts') || '{}'"))
        shown_before = set(await page.js(
            "Array.from(document.querySelectorAll('#log .msg.operator')).map(e => +e.dataset.id)"))
        async with serving(sqlite_path, port):
            await page.until(CONNECTED, 60)
            await page.until("document.querySelectorAll('#log .msg.operator').length === 40", 60)
            await eventually(lambda: delivered(sqlite_store, replies, (DELIVERED, READ)),
                             timeout=60)
            await page.until("localStorage.getItem('switchboard.webchat.web.receipts') === '{}'",
                             30)
    assert shown_before and shown_before <= set(replies)
    assert set(map(int, kept)) <= set(replies)


async def test_a_huge_page_address_is_cut_and_the_page_stays_connected(
        tmp_path: Path, sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    async with running(sqlite_store, [web]) as gw, chromium(tmp_path) as page:
        connector = gw.connectors["web"]
        hello = connector._hello  # type: ignore[attr-defined]
        opened: list[int] = []

        async def counted(*args: object) -> object:
            opened.append(1)
            return await hello(*args)

        connector._hello = counted  # type: ignore[attr-defined]
        # The fragment never reaches the server, but it is part of location.href.
        url = f"{gw.external_url()}/chat/web?utm_source=huge#{'x' * 70_000}"
        await page.call("Page.navigate", url=url)
        await page.until(CONNECTED)
        await visitor_writes(page, "длинный адрес")
        task = await eventually(lambda: (sqlite_store.list_tasks().items or [None])[0])
        await page.until(CONNECTED)
    assert len(task.additional_data["page"]) == 2000
    assert task.additional_data["utm_source"] == "huge"
    assert len(opened) == 1  # one socket: no reconnect loop


async def test_scrolling_up_while_the_page_reconnects_leaves_no_gap(
        tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The visitor scrolls up in the moment between a reconnect and its new history.

    The page used to ask for the page older than the cursor of its *previous*
    connection, and took that answer's cursor over the new history's: 60 replies that
    came in while it was connected sat between the two pages, were never shown, and
    scrolling further up skipped them (found by the 200-reply race test in CI)."""
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    reading, release = threading.Event(), threading.Event()
    hold = {"armed": False}

    def held_history(store: Any, channel_id: int, chat_id: str, before: Any = None,
                     limit: int = PAGE_SIZE) -> HistoryPage:
        if before is None and hold["armed"]:  # a hello's history, once armed
            hold["armed"] = False
            reading.set()
            release.wait(30)
        return history_page(store, channel_id, chat_id, before, limit)

    monkeypatch.setattr(visitor_socket, "history_page", held_history)
    async with running(sqlite_store, [web]) as gw, chromium(tmp_path) as page:
        await page.call("Page.navigate", url=f"{gw.external_url()}/chat/web")
        await page.until(CONNECTED)
        await visitor_writes(page, "вопрос")
        task = await eventually(lambda: (sqlite_store.list_tasks().items or [None])[0])

        def reply(first: int, count: int) -> list[int]:
            return [sqlite_store.reply(task.id, operator.id, f"ответ {i:03d}").id
                    for i in range(first, first + count)]

        connector = gw.connectors["web"]
        replies = await asyncio.to_thread(reply, 0, 100)
        await eventually(lambda: delivered(sqlite_store, replies, (SENT, DELIVERED, READ)))
        await cut_every_socket(connector)  # the new history: the newest 50, then a cursor
        await reconnected_showing(page, 50)
        replies += await asyncio.to_thread(reply, 100, 60)  # shown live, below them
        await page.until("document.querySelectorAll('#log .msg.operator').length === 110", 30)

        hold["armed"] = True
        await cut_every_socket(connector)
        await asyncio.to_thread(reading.wait, 30)  # connected again, its history not out
        await page.until(CONNECTED)
        await page.js("(() => { const log = document.getElementById('log'); "
                      "log.scrollTop = 0; log.dispatchEvent(new Event('scroll')); "
                      "return true; })()")
        release.set()
        await page.until(f"{CONNECTED} && "
                         "document.querySelectorAll('#log .msg.operator').length >= 50")
        await scrolled_to_the_top_shows(page, 160, 20)
        texts = await page.js(OPERATOR_TEXTS)
    assert texts == [f"ответ {i:03d}" for i in range(160)]  # each once, in order, no gap
    assert await asyncio.to_thread(delivered, sqlite_store, replies, (SENT, DELIVERED, READ))


async def test_an_older_page_refused_over_the_pace_is_asked_for_again(
        tmp_path: Path, sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Over the visitor's frame allowance the server answers ``older`` with no page and
    ``retry_after``; the page asks again then, so scrolling up still reaches the first
    reply (it used to wait for an answer that never came, until it reconnected)."""
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    limits = ServerLimits(visitor_messages_per_second=0.05, visitor_burst=1)  # frames: 1/s, 20
    caplog.set_level(logging.WARNING)
    async with running(sqlite_store, [web], limits=limits) as gw, \
            chromium(tmp_path) as page:
        connector = gw.connectors["web"]
        await page.call("Page.navigate", url=f"{gw.external_url()}/chat/web")
        await page.until(CONNECTED)
        await visitor_writes(page, "вопрос")
        task = await eventually(lambda: (sqlite_store.list_tasks().items or [None])[0])
        replies = await asyncio.to_thread(
            lambda: [sqlite_store.reply(task.id, operator.id, f"ответ {i:03d}").id
                     for i in range(120)])
        await eventually(lambda: delivered(sqlite_store, replies, (SENT, DELIVERED, READ)))
        await cut_every_socket(connector)  # the new history: the newest 50, then a cursor
        await reconnected_showing(page, 50)
        for _ in range(40):  # the visitor's frame allowance, used up
            connector.pacing.frames.take(task.chat_id)
        await scrolled_to_the_top_shows(page, 120, 30)
        texts = await page.js(OPERATOR_TEXTS)
    assert texts == [f"ответ {i:03d}" for i in range(120)]
    assert any("too many older frames" in r.getMessage() for r in caplog.records)
