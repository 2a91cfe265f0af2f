"""Files in the console: a path prompt with completion to send one; open and save one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from console.screens.file_prompt import FilePromptDialog
from storage.constants import OUTBOUND
from storage.inputs import AttachmentIn
from tests.console.conftest import Data, inbound, press, settle, started
from tests.console.test_drafts import open_task
from widgets.path_input import complete_path
from widgets.thread_view import ThreadView

OPENER = """\
import json, sys
from pathlib import Path
Path(sys.argv[1]).write_text(json.dumps(sys.argv[2:]), encoding="utf-8")
"""


def test_tab_completes_as_far_as_unambiguous(tmp_path: Path) -> None:
    (tmp_path / "invoice-2026.pdf").write_bytes(b"%PDF")
    (tmp_path / "invoice-2025.pdf").write_bytes(b"%PDF")
    (tmp_path / "photos").mkdir()
    (tmp_path / ".hidden").write_text("x")
    assert complete_path(f"{tmp_path}/inv") == (f"{tmp_path}/invoice-202",
                                                ["invoice-2025.pdf", "invoice-2026.pdf"])
    assert complete_path(f"{tmp_path}/ph") == (f"{tmp_path}/photos/", [])
    assert complete_path(f"{tmp_path}/zz") == (f"{tmp_path}/zz", [])
    assert complete_path(f"{tmp_path}/") [1] == ["invoice-2025.pdf", "invoice-2026.pdf",
                                                 "photos/"]
    assert complete_path(f"{tmp_path}/.h")[0] == f"{tmp_path}/.hidden"


async def test_a_file_picked_with_completion_goes_with_the_reply(data: Data, make_app,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "invoice-2026.pdf").write_bytes(b"%PDF-1.4 test")
    ivan = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, *"Your invoice", "ctrl+b")
        assert isinstance(app.screen, FilePromptDialog)
        await press(pilot, *f"{tmp_path}/inv", "tab")
        assert app.screen.query_one("#path").value == f"{tmp_path}/invoice-2026.pdf"
        await press(pilot, "enter")
        assert "File: invoice-2026.pdf" in str(composer.border_subtitle)
        await press(pilot, "ctrl+s")
        reply = [m for m in data.store.thread_before(ivan).items if m.kind == OUTBOUND][-1]
        assert reply.text == "Your invoice"
        assert [(a.name, a.mime, a.size) for a in reply.attachments] == [
            ("invoice-2026.pdf", "application/pdf", 13)]
        assert reply.attachments[0].location == str(tmp_path / "invoice-2026.pdf")
        assert composer.attachment is None


async def test_a_missing_file_is_explained_and_the_prompt_stays(data: Data, make_app,
                                                                tmp_path: Path) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, data.tasks["ivan"])
        await press(pilot, "ctrl+b", *f"{tmp_path}/nothing.txt", "enter")
        assert isinstance(app.screen, FilePromptDialog)
        assert "is not a file" in str(app.screen.query_one("#path-error").render())


@pytest.fixture
def with_attachment(data: Data, tmp_path: Path) -> tuple[int, Path]:
    stored = tmp_path / "store" / "photo.jpg"
    stored.parent.mkdir()
    stored.write_bytes(b"\xff\xd8 jpeg")
    result = data.store.ingest(inbound(data.tg, "ivan", "see photo", 40, "Ivan Petrov",
                                       attachments=(AttachmentIn("photo.jpg", "image/jpeg",
                                                                 7, str(stored)),)))
    return result.task.id, stored


async def select_last_message(pilot, task_id: int) -> None:
    await open_task(pilot, task_id)
    thread = pilot.app.screen.query_one(ThreadView)
    thread.focus()
    await press(pilot, "end")
    assert thread.selected_message.attachments


async def test_open_runs_the_opener_detached(data: Data, make_app, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             with_attachment: tuple[int, Path]) -> None:
    task_id, stored = with_attachment
    script, marker = tmp_path / "opener.py", tmp_path / "opened.json"
    script.write_text(OPENER, encoding="utf-8")
    monkeypatch.setenv("SWITCHBOARD_OPENER", f"{sys.executable} {script} {marker}")
    app = make_app(data.anna)
    async with started(app) as pilot:
        await select_last_message(pilot, task_id)
        await press(pilot, "O")
        await settle(pilot)  # the worker reaps the opener once it exited
    assert json.loads(marker.read_text(encoding="utf-8")) == [str(stored)]


async def test_save_copies_the_file_elsewhere(data: Data, make_app, tmp_path: Path,
                                              with_attachment: tuple[int, Path]) -> None:
    task_id, stored = with_attachment
    target = tmp_path / "saved"
    target.mkdir()
    app = make_app(data.anna)
    async with started(app) as pilot:
        await select_last_message(pilot, task_id)
        await press(pilot, "D")
        assert isinstance(app.screen, FilePromptDialog)
        prompt = app.screen.query_one("#path")
        prompt.value = str(target)
        await press(pilot, "enter")
        await settle(pilot)
    assert (target / "photo.jpg").read_bytes() == stored.read_bytes()


async def test_a_hostile_file_name_is_shown_literally_in_the_save_prompt(
        data: Data, make_app, tmp_path: Path) -> None:
    """The client names the file: "[/x]" must neither style nor break the prompt."""
    stored = tmp_path / "evil.bin"
    stored.write_bytes(b"x")
    name = "[b]bold[/b] [/x].txt"
    result = data.store.ingest(inbound(data.tg, "mallory", "file", 41, "Mallory",
                                       attachments=(AttachmentIn(name, "text/plain", 1,
                                                                 str(stored)),)))
    app = make_app(data.anna)
    async with started(app) as pilot:
        await select_last_message(pilot, result.task.id)
        await press(pilot, "D")
        assert isinstance(app.screen, FilePromptDialog)
        hint = app.screen.query_one(".dialog-hint")
        assert name in str(hint.render())
