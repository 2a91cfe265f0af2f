"""The web chat never loses a reply or a receipt, whatever order things happen in:
many tabs reconnecting during a 200-reply delivery, and a server killed with SIGKILL
while receipts are on the wire (a real child process on the same SQLite file)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from storage.models import DELIVERED, READ, SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.webchat_client import Visitor

ROOT = Path(__file__).resolve().parents[2]
REPLIES = 200


def delivered(store: Store, ids: list[int], states: tuple[str, ...]) -> bool:
    M = store.m.Message
    return M.select().where(M.id.in_(ids) & M.delivery_state.in_(states)).count() == len(ids)


async def tab(http: aiohttp.ClientSession, url: str, token: str, replies: list[int],
              done: asyncio.Event, views: list[list[int]]) -> Visitor:
    """Reconnect again and again while replies are delivered; record what each connection
    showed (history, then live messages). Returns the last connection, still open."""
    reply_set = set(replies)
    while True:
        visitor = Visitor(http, url)
        await visitor.connect(token=token)
        view = [m["id"] for m in visitor.history if m["id"] in reply_set]
        with contextlib.suppress(TimeoutError):
            live = 0
            while live < 3 and not done.is_set():
                frame = await visitor.receive("message", timeout=0.3)
                if frame["id"] in reply_set:
                    view.append(frame["id"])
                    live += 1
        views.append(view)
        if done.is_set():
            return visitor
        await visitor.close()


def contiguous(view: list[int], replies: list[int]) -> bool:
    """The replies a connection showed are a run with no hole (none was lost)."""
    if not view:
        return True
    index = {r: i for i, r in enumerate(replies)}
    positions = sorted({index[r] for r in view})
    return positions == list(range(positions[0], positions[-1] + 1))


async def test_no_reply_is_lost_across_many_reconnects_during_200_replies(
        sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with running(sqlite_store, [web]) as gw, aiohttp.ClientSession() as http:
        url = f"{gw.external_url()}/chat/web/ws"
        first = Visitor(http, url)
        await first.connect()
        ack = await first.say("жду ответов", "q1")
        await first.close()
        assert first.token is not None
        task_id = sqlite_store.get_message(ack["message_id"]).task_id

        def write_replies() -> list[int]:
            return [sqlite_store.reply(task_id, operator.id, f"ответ {i}").id
                    for i in range(REPLIES)]

        done = asyncio.Event()
        views: list[list[int]] = []
        replies_future = asyncio.ensure_future(asyncio.to_thread(write_replies))
        # Reply ids are known only once written; tabs filter on them afterwards.
        replies = await replies_future
        tabs = [asyncio.ensure_future(tab(http, url, first.token, replies, done, views))
                for _ in range(8)]
        await eventually(lambda: delivered(sqlite_store, replies, (SENT, DELIVERED, READ)),
                         timeout=60)
        done.set()
        finals = await asyncio.gather(*tabs)
        for visitor in finals:  # each page, scrolled all the way up, shows every reply
            earlier = {m["id"] for m in await visitor.older()}
            # A reply is marked sent once it is written to the sockets; its frame may
            # still be on the way to this one (or arrive while older pages loaded).
            while not set(replies) <= (shown := earlier | {m["id"] for m in visitor.history}
                                       | {f["id"] for f in visitor.frames
                                          if f["type"] == "message"}):
                await visitor.receive("message", timeout=10)
            assert set(replies) <= shown
        await finals[0].receipt(replies, READ)
        await eventually(lambda: delivered(sqlite_store, replies, (READ,)), timeout=30)
        for visitor in finals:
            await visitor.close()
    assert len(views) > 8  # the tabs did reconnect while replies were going out
    assert all(contiguous(view, replies) for view in views), "a connection lost a reply"


@contextlib.asynccontextmanager
async def serving(path: Path, port: int = 0) -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.connectors.serve_child", str(path), str(port), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        yield int(line), proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_receipts_survive_a_server_sigkill(sqlite_path: Path, sqlite_store: Store) -> None:
    operator = sqlite_store.ensure_operator("Anna", "operator")
    async with aiohttp.ClientSession() as http:
        async with serving(sqlite_path) as (port, proc):
            url = f"http://127.0.0.1:{port}/chat/web/ws"
            visitor = Visitor(http, url)
            await visitor.connect()
            ack = await visitor.say("вопрос", "q1")
            task_id = sqlite_store.get_message(ack["message_id"]).task_id
            # Written by this process: the child hears of them through the wake-up socket.
            replies = [sqlite_store.reply(task_id, operator.id, f"ответ {i}").id
                       for i in range(30)]
            seen: set[int] = set()
            while not set(replies) <= seen:
                seen.add((await visitor.receive("message"))["id"])
            await visitor.receipt(replies, DELIVERED)
            os.kill(proc.pid, signal.SIGKILL)  # receipts on the wire, none acknowledged yet
            await proc.wait()
        async with serving(sqlite_path, port):
            again = Visitor(http, url)
            await again.connect(token=visitor.token)
            again.unacked = dict(visitor.unacked)  # the page keeps them (localStorage)
            await again.resend_receipts()
            async with asyncio.timeout(30):
                while again.unacked:
                    await again.receive("receipt_ack")
            await again.close()
    assert delivered(sqlite_store, replies, (DELIVERED, READ))
