"""``switchboard operator available|away|list``: exit status, message, and what
auto-assignment then does. Run through ``console.cli.main`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from storage.auto_assign import auto_assign
from storage.availability import availability
from storage.inputs import Inbound
from storage.models import SUPERVISOR
from storage.store import Store


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


class Shell:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.url = url
        self.store = Store.open(url)
        self.web = self.store.ensure_channel("webchat", "web", {"auto_assign": True}).id
        self.anna = self.store.ensure_operator("Anna").id
        self.maria = self.store.ensure_operator("Maria", SUPERVISOR).id
        self.boris = self.store.ensure_operator("Boris").id
        self.configs = {}
        for name, role in (("Anna", "operator"), ("Maria", "supervisor")):
            path = tmp_path / f"{name}.yaml"
            path.write_text(f"operator: {{name: {name}, role: {role}}}\nlanguage: en\n"
                            "channels: [{name: web, kind: webchat, settings: {auto_assign: true}}]\n", encoding="utf-8")
            path.chmod(0o600)
            self.configs[name] = path

    def run(self, who: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        code = main(["--config", str(self.configs[who]), "--db", self.url, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err


@pytest.fixture
def shell(tmp_path: Path, store_url: str) -> Shell:
    sh = Shell(tmp_path, store_url)
    yield sh
    sh.store.close()


def test_available_and_away(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    assert not availability(shell.store)[shell.anna].available  # nobody marked: away
    code, out, err = shell.run("Anna", "operator", "available", capsys=capsys)
    assert (code, out, err) == (0, "Anna is available.\n", "")
    assert availability(shell.store)[shell.anna].available
    code, out, err = shell.run("Anna", "operator", "available", "--limit", "3", capsys=capsys)
    assert (code, out, err) == (0, "Anna is available, with at most 3 open tasks.\n", "")
    assert availability(shell.store)[shell.anna].max_open == 3
    code, out, _err = shell.run("Anna", "operator", "available", "--limit", "none", capsys=capsys)
    assert code == 0 and out == "Anna is available.\n"
    assert availability(shell.store)[shell.anna].max_open is None
    code, out, err = shell.run("Anna", "operator", "away", capsys=capsys)
    assert (code, out, err) == (0, "Anna is away.\n", "")
    assert not availability(shell.store)[shell.anna].available


def test_auto_assignment_honours_it(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run("Anna", "operator", "available", capsys=capsys)[0] == 0

    def new_task(chat: str) -> int:
        task = shell.store.ingest(Inbound(channel_id=shell.web, chat_id=chat, sender_id=chat,
                                          text="hi", external_id=chat, display_name=chat)).task
        auto_assign(shell.store, task.id)
        return shell.store.get_task(task.id).assignee_id

    assert new_task("ivan") == shell.anna
    assert shell.run("Anna", "operator", "away", capsys=capsys)[0] == 0
    assert new_task("olga") is None


def test_list_text_and_json(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run("Anna", "operator", "available", "--limit", "2", capsys=capsys)
    task = shell.store.ingest(Inbound(channel_id=shell.web, chat_id="ivan", sender_id="ivan",
                                      text="hi", external_id="m1", display_name="Ivan")).task
    shell.store.assign([task.id], shell.anna, by=shell.maria)
    code, out, err = shell.run("Anna", "operator", "list", capsys=capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == ["Anna  available  limit 2  open tasks: 1",
                                "Boris  away  no limit  open tasks: 0",
                                "Maria  away  no limit  open tasks: 0"]
    code, out, _err = shell.run("Anna", "operator", "list", "--json", capsys=capsys)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["Anna"] == {"name": "Anna", "role": "operator", "available": True, "limit": 2,
                            "open_tasks": 1}
    assert rows["Maria"]["role"] == SUPERVISOR and rows["Maria"]["available"] is False


def test_as_another_operator(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = shell.run("Anna", "operator", "available", "--as", "Boris", capsys=capsys)
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and "supervisor" in err and len(err.splitlines()) == 1
    assert not availability(shell.store)[shell.boris].available
    code, out, _err = shell.run("Maria", "operator", "available", "--as", "Boris", capsys=capsys)
    assert (code, out) == (0, "Boris is available.\n")
    assert availability(shell.store)[shell.boris].available
    code, _out, err = shell.run("Maria", "operator", "away", "--as", "Nobody", capsys=capsys)
    assert code == 1 and "Nobody" in err


def test_usage_errors(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("operator", "available", "--limit", "-1"),
                 ("operator", "available", "--limit", "many")):
        with pytest.raises(SystemExit) as exit_info:
            shell.run("Anna", *argv, capsys=capsys)
        assert exit_info.value.code == 2
    code, _out, err = shell.run("Anna", "operator", capsys=capsys)
    assert code == 2 and err.startswith("usage:")
