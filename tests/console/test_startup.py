"""Start-up runs with the garbage collector paused, and every path turns it back on
(``console.startup``, issue 20).

The console resumes it once its first rows are painted, or a moment after mount when
there is nothing to show; every other command at once; and the entry point on any
exit. ``resume`` only undoes ``pause``.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console import app as app_module
from console import cli, startup
from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from storage.store import Store
from tests.console.conftest import Data, frozen_clock, until
from widgets.task_list import TaskList

ROOT = Path(__file__).resolve().parents[2]


class Cycle:
    """A weakly referenceable object in a reference cycle (only a collection frees it)."""

    def __init__(self, holder: list[Any]) -> None:
        self.holder = holder
        holder.append(self)


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """Leave the collector as each test found it: on, nothing frozen, not paused."""
    yield
    startup._paused = False
    gc.unfreeze()
    gc.enable()


def test_pause_then_resume_freezes_start_up_and_turns_collection_on() -> None:
    startup.pause()
    assert not gc.isenabled() and startup.paused()
    during_ref = weakref.ref(Cycle([]))  # start-up's garbage: frozen, not collected
    startup.resume()
    assert gc.isenabled() and not startup.paused()
    gc.collect()
    assert during_ref() is not None  # frozen: no collection scans it (nor frees it)
    after_ref = weakref.ref(Cycle([]))  # made once the operator works: collected as usual
    gc.collect()
    assert after_ref() is None
    startup.resume()  # twice is harmless
    assert gc.isenabled()


def test_resume_leaves_a_collector_someone_else_turned_off() -> None:
    gc.disable()
    startup.pause()  # already off: not ours to turn back on
    startup.resume()
    assert not gc.isenabled()


def test_another_command_runs_with_the_collector_on(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("operator: {name: Anna}\n", encoding="utf-8")
    startup.pause()
    assert cli.main(["--config", str(config), "config", "check"]) == 0
    assert gc.isenabled()  # resumed by the CLI before the command ran, not at exit


def test_the_entry_point_resumes_on_any_exit(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.yaml"
    assert startup.main(["--config", str(missing), "--db", "/nonexistent/dir/x.db"]) == 1
    assert gc.isenabled() and not startup.paused()


async def test_the_console_resumes_the_collector_after_its_first_rows(data: Data) -> None:
    app = SwitchboardApp(data.store, Config(operator=OperatorConfig("Anna")), data.anna,
                         clock=frozen_clock)
    startup.pause()
    async with app.run_test(size=(120, 36)) as pilot:
        rows = lambda: len(app.screen.query_one(TaskList).rows)  # noqa: E731
        await until(pilot, lambda: rows() == len(data.tasks), "the first rows")
        await until(pilot, gc.isenabled, "the collector to resume")
        assert not startup.paused()


async def test_an_empty_console_resumes_it_a_moment_after_mount(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "STARTED_AT_LATEST", 0.05)
    anna = sqlite_store.ensure_operator("Anna", "operator")
    app = SwitchboardApp(sqlite_store, Config(operator=OperatorConfig("Anna")), anna,
                         clock=frozen_clock)
    startup.pause()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, gc.isenabled, "the collector to resume with no rows")
        assert app.screen.query_one(TaskList).rows == ()


def test_python_m_console_is_the_switchboard_command(tmp_path: Path) -> None:
    """``python -m console`` runs the same entry point as the installed script."""
    config = tmp_path / "config.yaml"
    config.write_text("operator: {name: Anna}\nlanguage: ru\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "console", "--config", str(config),
                          "config", "check"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    scripts = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'switchboard = "console.startup:main"' in scripts
    assert out.stdout.startswith(f"Настройки в порядке: {config}")  # in the config's language
