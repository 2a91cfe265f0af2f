"""$EDITOR: the draft goes to a real editor process (a script here) and comes back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from console.editor import EditorError, edit_text, editor_command
from tests.console.conftest import Data, press, started
from tests.console.test_drafts import open_task

SCRIPT = """\
import sys
from pathlib import Path
path = Path(sys.argv[-1])
text = path.read_text(encoding="utf-8")
path.write_text(text.upper() + " — привет\\n", encoding="utf-8")
"""


@pytest.fixture
def script_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "editor.py"
    script.write_text(SCRIPT, encoding="utf-8")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    return script


def test_visual_wins_over_editor_and_is_split_like_a_shell() -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano"}) == ["nano"]
    assert editor_command({}) == ["vi"]


def test_edit_text_round_trips_utf8(script_editor: Path) -> None:
    assert edit_text("ok") == "OK — привет"


def test_a_failing_editor_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", f"{sys.executable} -c 'raise SystemExit(3)'")
    with pytest.raises(EditorError, match="status 3"):
        edit_text("keep")
    monkeypatch.setenv("VISUAL", "/nonexistent/editor-c2")
    with pytest.raises(EditorError, match="could not start"):
        edit_text("keep")


async def test_the_key_brings_the_edited_text_back_as_the_draft(data: Data, make_app,
                                                                script_editor: Path) -> None:
    ivan = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, *"long reply", "ctrl+g")
        assert composer.text == "LONG REPLY — привет"
        assert composer.task_id == ivan
        app.screen.drafts.flush_now()
    assert data.store.drafts.get(ivan, data.anna.id).text == "LONG REPLY — привет"
