"""``switchboard serve`` auto-assigns: a task created by another process goes to the
available operator, through the serve process's bus subscriber (NOTIFY on PostgreSQL,
the file's cross-process wake-up on SQLite)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from storage.availability import set_available
from storage.events import Event
from storage.inputs import Inbound
from storage.store import Store
from tests.team.procs import Children


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def test_serve_assigns_new_tasks_round_robin(tmp_path: Path, store_url: str,
                                             children: Children) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text(
        "operator: {name: server, role: supervisor}\nlanguage: en\n"
        "server: {host: 127.0.0.1, port: 0}\n"
        "channels:\n  - name: web\n    kind: webchat\n"
        "    settings: {auto_assign: true, auto_assign_limit: 5}\n", encoding="utf-8")
    config.chmod(0o600)
    store = Store.open(store_url)
    assigned: dict[int, int] = {}
    both = threading.Event()

    def on_event(event: Event) -> None:
        if event.kind == "task.updated" and event.task_id and event.data.get("assignee"):
            assigned[event.task_id] = int(event.data["assignee"])
            if len(assigned) == 2:
                both.set()

    unsubscribe = store.bus.subscribe(on_event)
    serve = children.start("--config", str(config), "--db", store_url, "serve",
                           module="console.cli")
    try:
        serve.expect_text("Serving")
        anna = store.ensure_operator("Anna").id
        boris = store.ensure_operator("Boris").id
        set_available(store, anna, True)
        set_available(store, boris, True)
        web = store.channel_by_name("web").id
        tasks = [store.ingest(Inbound(channel_id=web, chat_id=chat, sender_id=chat, text="hi",
                                      external_id=chat)).task.id for chat in ("c1", "c2")]
        assert both.wait(60), (assigned, serve.stderr())
        assert sorted(assigned) == sorted(tasks)
        assert sorted(assigned.values()) == sorted([anna, boris])
        for task_id, operator_id in assigned.items():
            assert store.get_task(task_id).assignee_id == operator_id
    finally:
        unsubscribe()
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=60) == 0
        store.close()
