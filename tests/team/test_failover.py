"""Failover between two real ``switchboard serve`` processes on one database (SQLite
file and PostgreSQL): the Telegram channel polls the fake Bot API in exactly one of
them (the channel lease); after a SIGKILL of the holder mid-stream the other takes the
channel over within ten seconds, and every update is stored exactly once (the offset
lives in the database, and ingest is idempotent on the update's message id)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.leases import channel_lease_name, lease_info
from storage.store import Store
from tests.connectors.fake_telegram import FakeTelegram
from tests.connectors.telegram_fixtures import all_messages, wait_for
from tests.team.procs import Child, Children

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def serve_config(tmp_path: Path, fake: FakeTelegram) -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(
        "operator: {name: server, role: supervisor}\nlanguage: en\n"
        "server: {host: 127.0.0.1, port: 0}\n"
        "channels:\n  - name: tg\n    kind: telegram\n"
        f"    options: {{token: '{fake.token}', api_base: '{fake.url}', poll_timeout: 1,"
        f" backoff_initial: 0.05, backoff_max: 0.5, media_dir: '{tmp_path / 'media'}'}}\n",
        encoding="utf-8")
    path.chmod(0o600)
    return path


def holder_pid(store: Store, channel_id: int) -> int | None:
    """The pid in the channel lease's holder (``host:pid:suffix``), if it holds it now."""
    info = lease_info(store, channel_lease_name(channel_id))
    return int(info.holder.split(":")[1]) if info is not None else None


async def start_serve(children: Children, config: Path, url: str) -> Child:
    child = children.start("--config", str(config), "--db", url, "serve", module="console.cli")
    await asyncio.to_thread(child.expect_text, "Serving")
    return child


async def test_the_second_serve_takes_the_channel_over_after_sigkill(
        tmp_path: Path, store: Store, store_url: str, fake: FakeTelegram,
        children: Children) -> None:
    config = serve_config(tmp_path, fake)
    first = await start_serve(children, config, store_url)
    channel = store.channel_by_name("tg")
    assert channel is not None
    await wait_for(lambda: holder_pid(store, channel.id) == first.proc.pid, 30,
                   "the first serve to hold the lease")
    second = await start_serve(children, config, store_url)
    # The second serve stands by: one poller only (the fake would answer 409 to two).
    await wait_for(lambda: "tg: ok — standby" in second.stderr(), 30, "the second on standby")
    assert holder_pid(store, channel.id) == first.proc.pid
    users = [fake.user(5000 + n, f"Client {n}", "", username=None) for n in range(4)]
    texts = [f"message {n}" for n in range(80)]
    for n, text in enumerate(texts[:40]):
        fake.push_message(text, user=users[n % 4])
    # Kill the holder while it works through the stream.
    await wait_for(lambda: len(all_messages(store, channel.id)) >= 5, 60, "the first messages")
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=30)
    for n, text in enumerate(texts[40:]):
        fake.push_message(text, user=users[n % 4])
    await wait_for(lambda: holder_pid(store, channel.id) == second.proc.pid, 10,
                   "the second serve to take the lease over within ten seconds")
    await wait_for(lambda: len(all_messages(store, channel.id)) >= len(texts), 60,
                   "every message stored")
    stored = collections.Counter(m.text for m in all_messages(store, channel.id))
    assert stored == collections.Counter(texts), "each update stored exactly once"
    second.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(second.proc.wait, 60) == 0
    # A clean stop hands the lease back at once: nobody holds it now.
    assert lease_info(store, channel_lease_name(channel.id)) is None
