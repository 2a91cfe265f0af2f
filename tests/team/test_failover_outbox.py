"""The outbox stays exactly-once with several ``switchboard serve`` on one database
(SQLite file and PostgreSQL), through the generic channel's fake receiver: one process
sends at a time (the outbox lease), a ``serve`` starting while another sends does not
re-send what is in flight, and after a SIGKILL of the sender another takes over."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.gateway import OUTBOX_LEASE
from storage.inputs import Inbound
from storage.leases import lease_info
from storage.models import SENT
from storage.store import Store
from tests.connectors.fake_channel import FakeChannelServer
from tests.connectors.telegram_fixtures import wait_for
from tests.team.procs import Child, Children

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
async def receiver() -> AsyncIterator[FakeChannelServer]:
    server = FakeChannelServer(delay=0.03)  # each send is in flight for a while
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def serve_config(tmp_path: Path, receiver: FakeChannelServer) -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(
        "operator: {name: server, role: supervisor}\nlanguage: en\n"
        "server: {host: 127.0.0.1, port: 0}\n"
        "channels:\n  - name: api\n    kind: generic\n"
        f"    options: {{secret: {receiver.secret}, send_url: '{receiver.url}'}}\n",
        encoding="utf-8")
    path.chmod(0o600)
    return path


def sender_pid(store: Store) -> int | None:
    info = lease_info(store, OUTBOX_LEASE)
    return int(info.holder.split(":")[1]) if info is not None else None


async def start_serve(children: Children, config: Path, url: str) -> Child:
    child = children.start("--config", str(config), "--db", url, "serve", module="console.cli")
    await asyncio.to_thread(child.expect_text, "Serving")
    return child


def queue_replies(store: Store, tasks: list[int], operator: int, tag: str) -> list[int]:
    """Five replies in each task, interleaved; their message ids."""
    return [store.reply(task, operator, f"{tag} {n} in {task}").id
            for n in range(5) for task in tasks]


async def test_two_serves_deliver_every_reply_once_across_a_start_and_a_sigkill(
        tmp_path: Path, store: Store, store_url: str, receiver: FakeChannelServer,
        children: Children) -> None:
    config = serve_config(tmp_path, receiver)
    first = await start_serve(children, config, store_url)
    second = await start_serve(children, config, store_url)
    serves = {first.proc.pid: first, second.proc.pid: second}
    channel = store.channel_by_name("api")
    assert channel is not None
    anna = store.ensure_operator("Anna").id
    tasks = [store.ingest(Inbound(channel_id=channel.id, chat_id=f"c{n}", sender_id=f"c{n}",
                                  text="hello", external_id=f"in-{n}")).task.id
             for n in range(6)]
    await wait_for(lambda: sender_pid(store) in serves, 30, "one serve to hold the outbox")

    # A third serve starts while replies are in flight: it must not re-queue them.
    ids = queue_replies(store, tasks, anna, "before")
    await wait_for(lambda: len(receiver.accepted) >= 3, 60, "the first deliveries")
    third = await start_serve(children, config, store_url)
    serves[third.proc.pid] = third
    await wait_for(lambda: len(receiver.accepted) >= len(ids), 60, "every reply delivered")
    keys = collections.Counter(r.key for r in receiver.requests)
    assert keys == collections.Counter(f"sb-{i}" for i in ids), "each reply sent exactly once"

    # The sender is killed mid-stream: another serve takes the outbox over.
    more = queue_replies(store, tasks, anna, "after")
    await wait_for(lambda: len(receiver.accepted) >= len(ids) + 2, 60, "deliveries resume")
    victim = sender_pid(store)
    assert victim in serves
    os.kill(victim, signal.SIGKILL)
    serves.pop(victim).proc.wait(timeout=30)
    await wait_for(lambda: sender_pid(store) in serves, 10,
                   "another serve to take the outbox over within ten seconds")
    await wait_for(lambda: len(receiver.accepted) >= len(ids) + len(more), 60,
                   "every reply delivered after the takeover")
    assert set(receiver.accepted) == {f"sb-{i}" for i in ids + more}
    keys = collections.Counter(r.key for r in receiver.requests)
    # Only what the killed process had on the wire may go out again, under the same
    # idempotency key (the receiver counts it once): at most one per task.
    repeated = [key for key, count in keys.items() if count > 1]
    assert all(keys[key] == 2 for key in repeated) and len(repeated) <= len(tasks)
    await wait_for(lambda: all(store.get_message(i).delivery_state == SENT for i in ids + more),
                   30, "every reply recorded as sent")
    for child in serves.values():
        child.proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(child.proc.wait, 60) == 0
