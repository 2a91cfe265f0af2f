"""Cross-process wake-up on SQLite: a reply committed by another process on the same file
(a second console, a script) is sent within a second — the outbox's own recheck is
minutes away, so only the event carried between the processes can explain it."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import aiohttp

from connectors.outbox import IDLE_RECHECK
from storage.store import Store
from tests.connectors.gateway_helpers import running, spec
from tests.connectors.webchat_client import Visitor

ROOT = Path(__file__).resolve().parents[2]

REPLY = textwrap.dedent("""
    import sys
    from connectors.registry import policies
    from storage.store import Store

    store = Store.open(sys.argv[1], policies=policies())
    operator = store.ensure_operator("Boris", "operator")
    input()  # go
    reply = store.reply(int(sys.argv[2]), operator.id, "from the second process")
    print(reply.id, flush=True)
    store.close()
""")


async def test_a_reply_committed_by_another_process_is_sent_within_a_second(
        sqlite_path: Path, sqlite_store: Store) -> None:
    assert IDLE_RECHECK >= 60
    web = spec(sqlite_store, "webchat", "web")
    async with running(sqlite_store, [web]) as gw, aiohttp.ClientSession() as http:
        visitor = Visitor(http, f"{gw.external_url()}/chat/web/ws")
        await visitor.connect()
        ack = await visitor.say("вопрос", "q1")
        task_id = sqlite_store.get_message(ack["message_id"]).task_id
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", REPLY, str(sqlite_path), str(task_id), cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"\n")
        await child.stdin.drain()
        line = await asyncio.wait_for(child.stdout.readline(), 60)  # committed
        loop = asyncio.get_running_loop()
        committed = loop.time()
        pushed = await visitor.receive("message", timeout=5)
        latency = loop.time() - committed
        await child.wait()
        await visitor.close()
    assert pushed["id"] == int(line) and pushed["text"] == "from the second process"
    assert latency < 1.0, f"sent {latency:.2f} s after the other process committed"
