"""The runner inside the gateway: opt-in through $SWITCHBOARD_RULES, started and
stopped with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.automation import worker_from_environment
from connectors.gateway import Gateway
from storage.inputs import Inbound
from storage.rules import RulesError
from storage.store import Store


def test_no_rules_file_means_no_runner(sqlite_store: Store,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_RULES", raising=False)
    assert worker_from_environment(sqlite_store) is None


def test_a_broken_rules_file_stops_the_start(sqlite_store: Store, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: a\n    when: client_mesage\n    then: [{note: x}]\n")
    monkeypatch.setenv("SWITCHBOARD_RULES", str(path))
    with pytest.raises(RulesError) as caught:
        worker_from_environment(sqlite_store)
    assert caught.value.line == 3


async def test_the_gateway_runs_the_rules(sqlite_store: Store, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: hello\n    when: task_created\n"
                    "    then: [{note: 'New conversation.'}]\n")
    monkeypatch.setenv("SWITCHBOARD_RULES", str(path))
    channel = sqlite_store.ensure_channel("webchat", "web").id
    gateway = Gateway(sqlite_store, [], port=0)
    gateway.automation = worker_from_environment(sqlite_store)
    assert gateway.automation is not None
    await gateway.start()
    try:
        task = sqlite_store.ingest(Inbound(channel, "c1", "c1", "hi", external_id="m1")).task
        worker = gateway.automation
        await worker.wait_for(lambda: [f.task_id for f in worker.fired] == [task.id])
    finally:
        await gateway.stop()
    notes = [m.text for m in sqlite_store.thread_before(task.id, None, 20).items
             if m.kind == "note"]
    assert notes == ["New conversation."]
