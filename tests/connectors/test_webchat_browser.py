"""End to end in a real browser: headless Chromium driven over the DevTools protocol.

The gateway runs on 127.0.0.1 (ephemeral port) with a SQLite store; Chromium opens the
web chat page; the test types like a visitor, replies like an operator (through the
store and the outbox), and reloads the page. Skipped only when no ``chromium``
binary is installed (Debian package ``chromium``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storage.models import DELIVERED, INBOUND, READ
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary: apt-get install "
                                 "chromium to run the browser end-to-end test")]


class Page:
    """The smallest DevTools-protocol client: commands with ids, answers by id."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            future = self.pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        mid = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[mid] = future
        await self.ws.send_json({"id": mid, "method": method, "params": params})
        answer = await asyncio.wait_for(future, 20)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }})()"
        while True:
            value = await self.js(guarded)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {timeout} s: {expression}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator[Page]:
    profile = tmp_path / "chromium-profile"
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError("chromium did not start its DevTools server")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json(content_type=None)
            target = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Page.enable")
                await page.call("Runtime.enable")
                try:
                    yield page
                finally:
                    page.reader.cancel()
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_visitor_writes_operator_replies_reload_keeps_the_task(
        tmp_path: Path, sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with running(sqlite_store, [web]) as gw, chromium(tmp_path) as page:
        url = f"{gw.external_url()}/chat/web?utm_source=e2e"
        await page.call("Page.navigate", url=url)
        await page.until("document.getElementById('status').textContent === 'Connected'")

        # The visitor gives a name and types a message.
        await page.js("document.getElementById('name').value = 'Ольга'; "
                      "document.getElementById('name-save').click(); true")
        await page.js("document.getElementById('input').focus(); true")
        await page.call("Input.insertText", text="Здравствуйте из браузера <i>!</i>")
        await page.js("document.getElementById('send').click(); true")

        def stored() -> Any:
            page_ = sqlite_store.list_tasks()
            return page_.items[0] if page_.items else None

        task = await eventually(stored)
        thread = sqlite_store.thread_before(task.id).items
        assert [m.text for m in thread if m.kind == INBOUND] == ["Здравствуйте из браузера <i>!</i>"]
        assert task.contact_name == "Ольга"
        assert task.additional_data["utm_source"] == "e2e"
        await page.until("document.querySelectorAll('#log .msg.visitor:not(.pending)').length === 1")

        # The operator replies; the reply appears in the page's DOM as text, not markup.
        reply = sqlite_store.reply(task.id, operator.id, "Добрый день! <b>Чем помочь?</b>")
        text = await page.until(
            "(() => { const m = document.querySelector('#log .msg.operator .text');"
            " return m && m.textContent; })()")
        assert text == "Добрый день! <b>Чем помочь?</b>"
        assert await page.js("document.querySelectorAll('#log b, #log i').length") == 0
        await eventually(lambda: sqlite_store.get_message(reply.id).delivery_state
                         in (DELIVERED, READ))

        # Reload: the history comes back and the conversation goes on in the same task.
        token = await page.js("localStorage.getItem('switchboard.webchat.web.token')")
        await page.call("Page.reload")
        await page.until("document.getElementById('status').textContent === 'Connected'"
                         " && document.querySelectorAll('#log .msg').length === 2")
        texts = await page.js("Array.from(document.querySelectorAll('#log .msg .text'))"
                              ".map(e => e.textContent)")
        assert texts == ["Здравствуйте из браузера <i>!</i>", "Добрый день! <b>Чем помочь?</b>"]
        assert await page.js("localStorage.getItem('switchboard.webchat.web.token')") == token
        await page.js("document.getElementById('input').focus(); true")
        await page.call("Input.insertText", text="И ещё вопрос")
        await page.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                        windowsVirtualKeyCode=13)
        await page.call("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter",
                        windowsVirtualKeyCode=13)
        await eventually(lambda: sqlite_store.thread_count(task.id) >= 4)
        assert sqlite_store.count_tasks() == 1
        last = sqlite_store.thread_before(task.id).items[-1]
        assert (last.kind, last.text) == (INBOUND, "И ещё вопрос")


async def test_a_message_refused_for_good_leaves_the_resend_queue(
        tmp_path: Path, sqlite_store: Store) -> None:
    """The channel is gone from the database, so the message can never be stored: the
    server says ``retry: false`` and the page shows the error and stops resending it."""
    from connectors.base import ChannelSpec

    gone = ChannelSpec(id=987_654, name="web", kind="webchat", options={})
    async with running(sqlite_store, [gone]) as gw, chromium(tmp_path) as page:
        await page.call("Page.navigate", url=f"{gw.external_url()}/chat/web")
        await page.until("document.getElementById('status').textContent === 'Connected'")
        await page.js("document.getElementById('input').focus(); true")
        await page.call("Input.insertText", text="в никуда")
        await page.js("document.getElementById('send').click(); true")
        await page.until("document.querySelectorAll('#log .msg.error').length === 1")
        queue = await page.js("localStorage.getItem('switchboard.webchat.web.queue')")
        assert json.loads(queue or "[]") == []
    assert sqlite_store.count_tasks() == 0
