"""Team keys of the config file: ``channels[].settings.auto_assign`` /
``auto_assign_limit`` are validated (no longer "unknown"), ``operator.may_act_as`` lets
an operator's configuration use the CLI's ``--as`` for the operators it names, and a
lone console's in-process gateway runs the auto-assigner."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from console.cli import main
from console.config import ConfigError, parse_config
from console.gateway_wiring import make_gateway
from storage.auto_assign import AutoAssigner
from storage.availability import set_available
from storage.events import TASK_UPDATED, Event
from storage.inputs import Inbound
from storage.store import Store


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def _channel(settings: str) -> str:
    return f"channels:\n  - name: web\n    kind: webchat\n    settings: {{{settings}}}\n"


def test_auto_assign_settings_are_known_and_validated() -> None:
    config = parse_config(_channel("auto_assign: true, auto_assign_limit: 3"))
    assert config.warnings == ()
    assert config.channels[0].settings == {"auto_assign": True, "auto_assign_limit": 3}
    assert parse_config(_channel("auto_assign_limit: null")).warnings == ()
    assert parse_config(_channel("auto_assign_limit: 0")).channels[0].settings == {
        "auto_assign_limit": 0}


@pytest.mark.parametrize(("setting", "reason"), [
    ("auto_assign_limit: -1", "channels[0].settings.auto_assign_limit: must be at least 0."),
    ("auto_assign_limit: '3'", "channels[0].settings.auto_assign_limit: expected a whole "
                               "number, got text."),
    ("auto_assign: 1", "channels[0].settings.auto_assign: expected true or false, got a "
                       "number."),
])
def test_bad_auto_assign_settings_name_the_key(setting: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_channel(setting))
    assert str(info.value).endswith(reason)


def test_may_act_as_is_a_list_of_names() -> None:
    config = parse_config("operator: {name: Anna, may_act_as: [Boris, Vera]}\n")
    assert config.operator.may_act_as == ("Boris", "Vera")
    assert parse_config("operator: {name: Anna}\n").operator.may_act_as == ()
    with pytest.raises(ConfigError) as info:
        parse_config("operator: {name: Anna, may_act_as: Boris}\n")
    assert str(info.value).endswith("operator.may_act_as: expected a list, got text.")
    with pytest.raises(ConfigError):
        parse_config("operator: {name: Anna, may_act_as: ['  ']}\n")


def test_may_act_as_allows_only_the_named_operators(
        tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(store_url)
    try:
        web = store.ensure_channel("webchat", "web").id
        store.ensure_operator("Anna")
        boris = store.ensure_operator("Boris").id
        store.ensure_operator("Vera")
        task = store.ingest(Inbound(channel_id=web, chat_id="ivan", sender_id="ivan",
                                    text="hello", external_id="m1")).task
        config = tmp_path / "anna.yaml"
        config.write_text("operator: {name: Anna, role: operator, may_act_as: [Boris]}\n"
                          "language: en\nchannels: [{name: web, kind: webchat}]\n",
                          encoding="utf-8")
        config.chmod(0o600)
        base = ["--config", str(config), "--db", store_url]
        assert main([*base, "task", "take", str(task.number), "--as", "Boris"]) == 0
        out = capsys.readouterr()
        assert out.out == f"You took task #{task.number}.\n"
        assert store.get_task(task.id).assignee_id == boris
        assert main([*base, "note", str(task.number), "hi", "--as", "Vera"]) == 1
        out = capsys.readouterr()
        assert out.out == ""
        assert out.err == "Error: --as needs a supervisor's configuration; Anna is an operator.\n"
    finally:
        store.close()


def test_a_lone_consoles_gateway_auto_assigns(tmp_path: Path, sqlite_path: Path) -> None:
    config = parse_config(
        "operator: {name: Anna}\nserver: {host: 127.0.0.1, port: 0}\n"
        + _channel("auto_assign: true, auto_assign_limit: 5"))
    store = Store.open(str(sqlite_path))
    try:
        store.ensure_channel("webchat", "web", dict(config.channels[0].settings))
        anna = store.ensure_operator("Anna").id
        set_available(store, anna, True)
        gateway = make_gateway(store, config)
        assert isinstance(gateway.assigner, AutoAssigner)
        assigned = threading.Event()

        def on_event(event: Event) -> None:
            if event.kind == TASK_UPDATED and event.data.get("assignee"):
                assigned.set()

        unsubscribe = store.bus.subscribe(on_event)

        async def scenario() -> int:
            await gateway.start()
            try:
                web = store.channel_by_name("web").id
                task = store.ingest(Inbound(channel_id=web, chat_id="c1", sender_id="c1",
                                            text="hi", external_id="x1")).task
                assert await asyncio.to_thread(assigned.wait, 30)
                return task.id
            finally:
                await gateway.stop()

        task_id = asyncio.run(scenario())
        unsubscribe()
        assert store.get_task(task_id).assignee_id == anna
    finally:
        store.close()
