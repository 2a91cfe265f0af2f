"""The gateway: supervision with capped backoff, health reporting, the group-commit writer.

``FlakyConnector`` below is a real connector (it subclasses the interface and is found
through the gateway's ``connector_class`` like any other); it fails a set number of
times, which is what the gateway's supervision must survive.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, ClassVar

import pytest

from connectors import gateway as gateway_module
from connectors import registry
from connectors.backoff import Backoff
from connectors.base import DEGRADED, FAILED, OK, STOPPED, Connector, ConnectorError, SendResult
from connectors.writer import GroupCommitWriter
from storage.errors import SwitchboardError
from storage.store import Store
from tests.connectors.gateway_helpers import inbound, running, spec


class FlakyConnector(Connector):
    """Fails in run() ``options.failures`` times, then runs until stopped."""

    kind = "flaky"
    starts: ClassVar[list[float]] = []
    stops: ClassVar[int] = 0

    async def start(self, session: Any) -> None:
        FlakyConnector.starts.append(time.monotonic())

    async def run(self) -> None:
        if len(FlakyConnector.starts) <= int(self.spec.options.get("failures", 0)):
            raise ConnectionResetError(f"boom {len(FlakyConnector.starts)}")
        await asyncio.Event().wait()

    async def stop(self) -> None:
        FlakyConnector.stops += 1

    async def send(self, item: Any) -> SendResult:
        return SendResult(None)


class RevokedConnector(FlakyConnector):
    kind = "revoked"

    async def start(self, session: Any) -> None:
        raise ConnectorError("the token was revoked")


class BrokenConnector(FlakyConnector):
    kind = "broken"

    def __init__(self, *args: Any) -> None:
        raise ValueError("options.colour must be a colour")


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    FlakyConnector.starts = []
    FlakyConnector.stops = 0
    fakes: dict[str, type] = {"flaky": FlakyConnector, "revoked": RevokedConnector,
                              "broken": BrokenConnector}

    def connector_class(kind: str) -> type:
        return fakes.get(kind) or registry.connector_class(kind)

    monkeypatch.setattr(gateway_module, "connector_class", connector_class)


async def test_crashing_connector_is_restarted_with_backoff_and_health_reported(
        sqlite_store: Store) -> None:
    flaky = spec(sqlite_store, "flaky", "flaky", failures=3)
    seen: list[tuple[str, str, str, str]] = []

    def listener(name: str, state: str, detail: str) -> None:
        seen.append((threading.current_thread().name, name, state, detail))

    backoff = Backoff(base=0.1, cap=0.25)
    async with running(sqlite_store, [flaky], backoff=backoff) as gw:
        unsubscribe = gw.subscribe_health(listener)
        for _ in range(300):
            if gw.health()["flaky"][0] == OK and len(FlakyConnector.starts) == 4:
                break
            await asyncio.sleep(0.01)
        assert gw.health()["flaky"] == (OK, "")
        assert gw.restarts["flaky"] == 3
        unsubscribe()
    starts = FlakyConnector.starts
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # attempt n waits at least min(cap, base·2ⁿ)/2: 0.05, 0.1, 0.125 — and never more than the cap
    for n, gap in enumerate(gaps):
        assert gap >= min(0.25, 0.1 * 2 ** n) / 2 - 0.01, gaps
        assert gap < 0.25 + 0.5, gaps
    degraded = [s for s in seen if s[2] == DEGRADED]
    assert degraded and "boom" in degraded[0][3] and "ConnectionResetError" in degraded[0][3]
    assert FlakyConnector.stops >= 3  # stopped before each restart


async def test_fatal_connector_error_is_failed_with_its_reason_and_others_run(
        sqlite_store: Store) -> None:
    revoked = spec(sqlite_store, "revoked", "tg")
    web = spec(sqlite_store, "webchat", "web")
    async with running(sqlite_store, [revoked, web], backoff=Backoff(base=5, cap=10)) as gw:
        for _ in range(200):
            if gw.health()["tg"][0] == FAILED and gw.health()["web"][0] == OK:
                break
            await asyncio.sleep(0.01)
        state, detail = gw.health()["tg"]
        assert state == FAILED and "the token was revoked" in detail
        assert gw.health()["web"] == (OK, "")
    assert gw.health()["web"][0] == STOPPED


async def test_unknown_kind_is_reported_not_fatal(sqlite_store: Store) -> None:
    odd = spec(sqlite_store, "carrier-pigeon", "birds")
    broken = spec(sqlite_store, "broken", "broken")
    web = spec(sqlite_store, "webchat", "web")
    async with running(sqlite_store, [odd, broken, web]) as gw:
        state, detail = gw.health()["birds"]
        assert state == FAILED and "carrier-pigeon" in detail
        assert gw.health()["broken"] == (FAILED, "ValueError: options.colour must be a colour")
        assert gw.health()["web"][0] in ("starting", OK)
        assert any("/chat/web" in a for a in gw.addresses())


async def test_writer_group_commits_concurrent_messages(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = GroupCommitWriter(sqlite_store, window=0.01)
    await writer.start()
    try:
        results = await asyncio.gather(*[
            writer.ingest(inbound(web.id, f"chat-{i % 7}", f"сообщение {i}", f"e-{i}"))
            for i in range(60)])
    finally:
        await writer.stop()
    assert len({r.message.id for r in results}) == 60
    assert [r.message.text for r in results] == [f"сообщение {i}" for i in range(60)]
    assert writer.batches < 20  # far fewer commits than messages
    assert sqlite_store.count_tasks() == 7


async def test_writer_one_bad_message_does_not_lose_the_others(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = GroupCommitWriter(sqlite_store, window=0.02)
    await writer.start()
    try:
        batch = [inbound(web.id, "a", "first", "x1"),
                 inbound(web.id, "", "no chat id: a rule violation", "x2"),
                 inbound(999_999, "b", "no such channel", "x3"),
                 inbound(web.id, "c", "last", "x4")]
        results = await asyncio.gather(*[writer.ingest(i) for i in batch], return_exceptions=True)
    finally:
        await writer.stop()
    assert results[0].message.text == "first"  # type: ignore[union-attr]
    assert isinstance(results[1], SwitchboardError) and str(results[1])
    assert isinstance(results[2], Exception)
    assert results[3].message.text == "last"  # type: ignore[union-attr]
    assert sqlite_store.find_message(web.id, "x1") and sqlite_store.find_message(web.id, "x4")
    assert sqlite_store.find_message(web.id, "x2") is None


async def test_writer_stop_commits_what_was_handed_in(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = GroupCommitWriter(sqlite_store, window=0.05)
    await writer.start()
    pending = [asyncio.create_task(writer.ingest(inbound(web.id, "a", str(i), f"s{i}")))
               for i in range(5)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [t.result().message.text for t in pending] == ["0", "1", "2", "3", "4"]
    with pytest.raises(ConnectionAbortedError):
        await writer.ingest(inbound(web.id, "a", "late", "late"))
