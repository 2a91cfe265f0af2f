"""``switchboard rules check|test|defaults`` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from storage.inputs import Inbound
from storage.store import Store


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("SWITCHBOARD_RULES", raising=False)
    return tmp_path


def test_check_names_the_first_error_line_and_column(
        isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = isolated / "rules.yaml"
    bad.write_text("rules:\n  - id: a\n    when: client_message\n    then:\n"
                   "      - set_status: waiting\n      - sned: hi\n", encoding="utf-8")
    assert main(["rules", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}, line 6, column 9: rules.0.then.1.sned: Extra inputs are not permitted" in err


def test_check_accepts_a_valid_file_and_the_defaults(
        isolated: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["rules", "check"]) == 0
    assert "the default rules: valid" in capsys.readouterr().out
    assert main(["rules", "defaults"]) == 0
    copy = isolated / "mine.yaml"
    copy.write_text(capsys.readouterr().out, encoding="utf-8")
    monkeypatch.setenv("SWITCHBOARD_RULES", str(copy))
    assert main(["rules", "check"]) == 0
    assert f"{copy}: valid, 5 rules (3 enabled)." in capsys.readouterr().out


def test_test_explains_a_task_without_changing_it(
        isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = isolated / "desk.db"
    store = Store.open(str(db))
    try:
        channel = store.ensure_channel("webchat", "web").id
        task = store.ingest(Inbound(channel, "c1", "c1", "hi", external_id="m1",
                                    display_name="Eve\x1b[2J")).task
    finally:
        store.close()
    rules = isolated / "rules.yaml"
    rules.write_text("rules:\n  - id: price\n    when: client_message\n"
                     "    if: {text_contains: price}\n    then: [{note: x}]\n", encoding="utf-8")
    assert main(["--db", str(db), "rules", "test", str(task.number), "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert "price [price]: would not act" in out
    assert "- text_contains: the text contains none of: price" in out
    assert "No rule has acted on this task yet." in out
    assert "\x1b" not in out and "Eve␛[2J" in out  # a client's name cannot drive the terminal
    assert main(["--db", str(db), "rules", "test", "999"]) == 1
    assert "Task #999 does not exist." in capsys.readouterr().err
