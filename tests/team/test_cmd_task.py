"""``switchboard task …``, ``reply`` and ``note``: each command, its exit status and message.

Commands run through ``console.cli.main`` (the real parser, config loading and store)
against a real database; the lost take also runs as the installed script, since exit
statuses are what scripts see.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from storage.inputs import Inbound
from storage.models import SUPERVISOR
from storage.store import Store
from storage.taking import take

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


class Shell:
    """A database with two clients, and config files for Anna (operator) and Maria."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.url = url
        self.store = Store.open(url)
        web = self.store.ensure_channel("webchat", "web").id
        self.anna = self.store.ensure_operator("Anna").id
        self.maria = self.store.ensure_operator("Maria", SUPERVISOR).id
        self.boris = self.store.ensure_operator("Boris").id
        self.ivan = self.store.ingest(Inbound(
            channel_id=web, chat_id="ivan", sender_id="ivan", text="where is my order?",
            external_id="m1", display_name="Ivan")).task
        self.olga = self.store.ingest(Inbound(
            channel_id=web, chat_id="olga", sender_id="olga", text="hi\x1b]52;c;ZXZpbA==\x07!",
            external_id="m2", display_name="Olga\u202e")).task
        self.configs = {}
        for name, role in (("Anna", "operator"), ("Maria", "supervisor")):
            path = tmp_path / f"{name}.yaml"
            path.write_text(f"operator: {{name: {name}, role: {role}}}\nlanguage: en\n"
                            "channels: [{name: web, kind: webchat}]\n", encoding="utf-8")
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


def test_list_filters_and_json(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = shell.run("Anna", "task", "list", capsys=capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"#{shell.olga.number}  [New]  unassigned  web")
    take(shell.store, shell.ivan.id, shell.anna)
    code, out, _err = shell.run("Anna", "task", "list", "--filter", "mine", "--json", capsys=capsys)
    assert code == 0
    assert [t["number"] for t in json.loads(out)] == [shell.ivan.number]
    code, out, _err = shell.run("Anna", "task", "list", "--filter", "unassigned", "--json",
                                capsys=capsys)
    assert [t["number"] for t in json.loads(out)] == [shell.olga.number]
    code, out, _err = shell.run("Anna", "task", "list", "--filter", "completed", capsys=capsys)
    assert code == 0 and out.strip() == "No tasks."


def test_list_shows_client_text_harmlessly(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = shell.run("Anna", "task", "list", capsys=capsys)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "hi␛]52;c;ZXZpbA==␇!" in out and "Olga‹U+202E›" in out
    code, out, _err = shell.run("Anna", "task", "list", "--json", capsys=capsys)
    assert "\x1b" not in out and "\u202e" not in out
    olga = next(t for t in json.loads(out) if t["number"] == shell.olga.number)
    assert olga["contact_name"] == "Olga\u202e"  # JSON escapes it; the value is intact
    assert olga["last_preview"] == "hi\x1b]52;c;ZXZpbA==\x07!"


def test_show_prints_the_conversation(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.store.reply(shell.ivan.id, shell.anna, "On its way.\nTomorrow.")
    code, out, err = shell.run("Anna", "task", "show", str(shell.ivan.number), capsys=capsys)
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith(f"#{shell.ivan.number}  [")
    assert "client: where is my order?" in out
    assert "Anna reply (queued): On its way." in out and "Tomorrow." in out
    code, out, _err = shell.run("Anna", "task", "show", f"#{shell.ivan.number}", "--json",
                                capsys=capsys)
    data = json.loads(out)
    assert data["task"]["id"] == shell.ivan.id
    assert [m["text"] for m in data["messages"] if m["kind"] != "event"] == [
        "where is my order?", "On its way.\nTomorrow."]


def test_show_unknown_task_fails_with_one_line(shell: Shell,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = shell.run("Anna", "task", "show", "999", capsys=capsys)
    assert code == 1 and out == "" and err == "Error: There is no task #999.\n"
    code, _out, err = shell.run("Anna", "task", "show", "abc", capsys=capsys)
    assert code == 1 and err == "Error: 'abc' is not a task number.\n"


def test_take_wins_then_loses_naming_the_winner(shell: Shell,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = shell.run("Anna", "task", "take", str(shell.ivan.number), capsys=capsys)
    assert (code, out, err) == (0, f"You took task #{shell.ivan.number}.\n", "")
    code, out, err = shell.run("Maria", "task", "take", str(shell.ivan.number), capsys=capsys)
    assert (code, out, err) == (3, "", f"Anna took task #{shell.ivan.number} first.\n")
    assert shell.store.get_task(shell.ivan.id).assignee_id == shell.anna


def test_lost_take_from_the_installed_script(shell: Shell) -> None:
    take(shell.store, shell.ivan.id, shell.maria)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "--config", str(shell.configs["Anna"]),
         "--db", shell.url, "task", "take", str(shell.ivan.number)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 3
    assert result.stdout == "" and result.stderr == f"Maria took task #{shell.ivan.number} first.\n"


def test_assign_and_unassign(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    number = str(shell.ivan.number)
    code, out, _err = shell.run("Anna", "task", "assign", number, "Boris", capsys=capsys)
    assert (code, out) == (0, f"Task #{number} is now assigned to Boris.\n")
    assert shell.store.get_task(shell.ivan.id).assignee_id == shell.boris
    # Boris's task: an operator may not hand it on; a supervisor may.
    code, out, err = shell.run("Anna", "task", "assign", number, "Anna", capsys=capsys)
    assert code == 1 and out == ""
    assert err == f"Error: Task #{number} is Boris's; only a supervisor reassigns it.\n"
    code, out, _err = shell.run("Maria", "task", "assign", number, "Anna", capsys=capsys)
    assert (code, out) == (0, f"Task #{number} is now assigned to Anna.\n")
    code, out, _err = shell.run("Anna", "task", "assign", number, "nobody", capsys=capsys)
    assert (code, out) == (0, f"Task #{number} is now unassigned.\n")
    assert shell.store.get_task(shell.ivan.id).assignee_id is None
    code, _out, err = shell.run("Anna", "task", "assign", number, "Zed", capsys=capsys)
    assert code == 1 and err == "Error: There is no operator named 'Zed'.\n"


def test_status(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    number = str(shell.ivan.number)
    code, out, _err = shell.run("Anna", "task", "status", number, "in-progress", capsys=capsys)
    assert (code, out) == (0, f"Task #{number}: In progress.\n")
    assert shell.store.get_task(shell.ivan.id).status == "in_progress"
    code, out, err = shell.run("Anna", "task", "status", number, "sleeping", capsys=capsys)
    assert code == 1 and out == "" and err.startswith("Error: Unknown status 'sleeping'; use one of:")
    assert len(err.splitlines()) == 1


def test_reply_and_note_from_arguments_and_stdin(shell: Shell, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    number = str(shell.ivan.number)
    code, out, _err = shell.run("Anna", "reply", number, "It ships today.", capsys=capsys)
    assert code == 0 and out.startswith(f"Reply queued for the client of task #{number}")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Two lines\nfrom a pipe\n"))
    code, out, _err = shell.run("Anna", "note", number, "-", capsys=capsys)
    assert code == 0 and out.startswith(f"Note added to task #{number}")
    thread = [m for m in shell.store.thread_before(shell.ivan.id).items if m.kind != "event"]
    assert [(m.kind, m.text, m.author_operator_id, m.delivery_state) for m in thread[1:]] == [
        ("outbound", "It ships today.", shell.anna, "queued"),
        ("note", "Two lines\nfrom a pipe", shell.anna, None)]
    assert thread[1].chat_id == "ivan"  # to this task's client, nobody else's


def test_empty_reply_is_refused(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = shell.run("Anna", "reply", str(shell.ivan.number), "   ", capsys=capsys)
    assert code == 1 and out == "" and err == "Error: The message is empty.\n"


def test_act_as_another_operator(shell: Shell, capsys: pytest.CaptureFixture[str]) -> None:
    number = str(shell.ivan.number)
    code, out, _err = shell.run("Maria", "task", "take", number, "--as", "Boris", capsys=capsys)
    assert (code, out) == (0, f"You took task #{number}.\n")
    assert shell.store.get_task(shell.ivan.id).assignee_id == shell.boris
    code, _out, _err = shell.run("Maria", "note", number, "for Boris", "--as", "Boris",
                                 capsys=capsys)
    assert code == 0
    note = shell.store.thread_before(shell.ivan.id).items[-1]
    assert (note.kind, note.author_operator_id) == ("note", shell.boris)
    # An operator's configuration does not allow it; an unknown operator is refused.
    code, out, err = shell.run("Anna", "reply", number, "hi", "--as", "Boris", capsys=capsys)
    assert code == 1 and out == ""
    assert err == "Error: --as needs a supervisor's configuration; Anna is an operator.\n"
    code, _out, err = shell.run("Maria", "task", "list", "--as", "Nobody", capsys=capsys)
    assert code == 1 and err == "Error: There is no operator named 'Nobody'.\n"


def test_help_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["task"], ["task", "list"], ["task", "show"], ["task", "take"],
                 ["task", "assign"], ["task", "status"], ["reply"], ["note"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: switchboard {' '.join(argv)}"), argv


def test_task_without_an_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["task"]) == 2
    assert capsys.readouterr().err.startswith("usage: switchboard task")


def test_a_bad_limit_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "1001", "many"):
        with pytest.raises(SystemExit) as exit_info:
            main(["task", "list", "--limit", value])
        assert exit_info.value.code == 2
        assert "must be a whole number from 1 to 1000" in capsys.readouterr().err


def test_list_pages_through_more_than_one_page(shell: Shell,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    web = shell.store.channel_by_name("web").id
    for n in range(3, 260):
        shell.store.ingest(Inbound(channel_id=web, chat_id=f"c{n}", sender_id=f"c{n}",
                                   text="hi", external_id=f"m{n}"))
    code, out, _err = shell.run("Anna", "task", "list", "--limit", "1000", "--json",
                                capsys=capsys)
    numbers = [t["number"] for t in json.loads(out)]
    assert code == 0 and len(numbers) == 259 == len(set(numbers))
    code, out, _err = shell.run("Anna", "task", "list", "--limit", "230", capsys=capsys)
    assert len(out.splitlines()) == 230
