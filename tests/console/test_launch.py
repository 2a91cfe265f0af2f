"""A console started from its launch record (``console.launch``, issue 20).

The first frame shows the real task list before the config and the store are loaded;
the inbox replaces it, fresh from the store, and every key typed meanwhile reaches
the inbox in order. Pilot on a real SQLite file; the loading is held by an event so
the tests decide when it ends.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from console import startup
from console.app import SwitchboardApp
from console.cli import finish_console
from console.config import Config, ConfigError, OperatorConfig
from console.launch import Launch, Loaded, remember
from console.launch_frame import LaunchFrame
from console.launch_record import LaunchRecord, read_record
from console.screens.inbox import InboxScreen
from storage.inputs import TaskFilter
from storage.launch_page import read_first_tasks
from storage.rows import OperatorRow
from storage.store import Store
from tests.console.conftest import Data, frozen_clock, inbound, until
from widgets.composer import Composer
from widgets.task_list import PAGE_SIZE, TaskList
from widgets.thread_view import ThreadView


@pytest.fixture(autouse=True)
def collector_restored() -> Any:
    yield
    startup._paused = False
    import gc

    gc.enable()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "config.yaml"
    path.write_text("operator: {name: Anna}\n", encoding="utf-8")
    return path


def config_for(operator: OperatorRow) -> Config:
    return Config(operator=OperatorConfig(operator.name, operator.role), theme="switchboard-light")


async def recorded(data: Data, config_file: Path) -> LaunchRecord:
    """Start the console the plain way; it writes its launch record once up."""
    app = SwitchboardApp(data.store, config_for(data.anna), data.anna, clock=frozen_clock,
                         remember=partial(remember, config_file, None))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: read_record(config_file, None) is not None,
                    "the launch record")
    record = read_record(config_file, None)
    assert record is not None
    return record


async def until_true(condition: Any, what: str, timeout: float = 20.0) -> None:
    """``condition()`` holds within ``timeout`` (no app running to pump)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


class HeldLoad:
    """The loading of a launch, held until :meth:`release` (or failing with ``error``)."""

    def __init__(self, store: Store, operator: OperatorRow,
                 error: BaseException | None = None) -> None:
        self.store, self.operator, self.error = store, operator, error
        self.go = threading.Event()
        self.calls = 0

    def __call__(self) -> Loaded:
        self.calls += 1
        assert self.go.wait(30), "the test never released the load"
        if self.error is not None:
            raise self.error
        return Loaded(self.store, config_for(self.operator), self.operator, None)

    def release(self) -> None:
        self.go.set()


def launched(record: LaunchRecord, load: HeldLoad) -> SwitchboardApp:
    tasks = read_first_tasks(record.database, record.schema_version, record.statements,
                             record.task_filter, PAGE_SIZE)
    assert tasks is not None
    app = SwitchboardApp(launch=Launch(record, tasks, load), clock=frozen_clock)
    app.timezone = None
    return app


def on_first_frame(app: SwitchboardApp) -> bool:
    return not isinstance(app.screen, InboxScreen) and bool(app.screen.query(LaunchFrame))


def inbox_rows(app: SwitchboardApp) -> tuple[Any, ...]:
    screen = app.screen
    lists = screen.query(TaskList) if isinstance(screen, InboxScreen) else ()
    if not lists or lists.first().pages_loaded == 0:  # not composed yet, or no page yet
        return ()
    return lists.first().rows


async def test_the_first_frame_shows_the_store_s_first_page_before_anything_loads(
        data: Data, config_file: Path) -> None:
    record = await recorded(data, config_file)
    assert record.database == str(Path(str(data.store.db.database)).resolve())
    assert record.theme_name == "switchboard-light" and record.operator == "Anna"
    load = HeldLoad(data.store, data.anna)
    app = launched(record, load)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: on_first_frame(app)
                    and len(app.screen.query_one(TaskList).rows) == len(data.tasks),
                    "the first frame's rows")
        first = app.screen.query_one(TaskList).rows
        assert first == data.store.list_tasks(record.task_filter, limit=PAGE_SIZE).items
        assert app.store is None and app.theme == "switchboard-light"
        assert "Filter:" in str(app.screen.query_one("#filter-bar").render())
        load.release()
        await until(pilot, lambda: len(inbox_rows(app)) == len(data.tasks), "the inbox")
        assert app.store is data.store and app.theme == "switchboard-light"
        assert set(app.shipped_themes) >= {"switchboard-dark", "switchboard-light"}
        await until(pilot, lambda: not any(s.query(LaunchFrame) for s in app.screen_stack),
                    "the first frame removed")
        assert len(app.screen_stack) == 2  # as a plain start: Textual's screen, the inbox


async def test_keys_typed_on_the_first_frame_reach_the_inbox_in_order(
        data: Data, config_file: Path) -> None:
    """A fast typist: two moves down and Enter before the store has loaded open the
    third task, in the inbox, with its own conversation."""
    record = await recorded(data, config_file)
    load = HeldLoad(data.store, data.anna)
    app = launched(record, load)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: on_first_frame(app), "the first frame")
        expected = app.screen.query_one(TaskList).rows[2]
        await pilot.press("j", "j", "enter", "h", "i")
        assert on_first_frame(app)  # shown only: nothing moved
        assert app.screen.query_one(TaskList).highlighted_task == app.screen.query_one(
            TaskList).rows[0]
        load.release()
        await until(pilot, lambda: isinstance(app.screen, InboxScreen)
                    and app.screen.current is not None, "the task opened")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        assert inbox.current is not None and inbox.current.id == expected.id
        thread = inbox.query_one(ThreadView)
        await until(pilot, lambda: thread.current_task is not None
                    and thread.current_task.id == expected.id, "its conversation")
        composer = inbox.query_one(Composer)
        await until(pilot, lambda: composer.text == "hi", "the typed text in the composer")


async def test_a_message_arriving_while_it_loads_is_in_the_inbox(
        data: Data, config_file: Path) -> None:
    """The inbox reads its own page from the store: what arrived after the first frame
    was drawn is there, on top."""
    record = await recorded(data, config_file)
    load = HeldLoad(data.store, data.anna)
    app = launched(record, load)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: on_first_frame(app), "the first frame")
        fresh = data.store.ingest(inbound(data.tg, "newcomer", "Только что написал", 500,
                                          "Новый клиент")).task
        load.release()
        await until(pilot, lambda: bool(inbox_rows(app)), "the inbox")
        assert inbox_rows(app)[0].id == fresh.id
        assert len(inbox_rows(app)) == len(data.tasks) + 1


async def test_a_config_that_no_longer_loads_ends_the_console_with_its_message(
        data: Data, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = await recorded(data, config_file)
    error = ConfigError(config_file, None, "operator", "Anna is not a role.")
    load = HeldLoad(data.store, data.anna, error=error)
    app = launched(record, load)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: on_first_frame(app), "the first frame")
        await pilot.press("j")
        load.release()
        await until(pilot, lambda: app.launch_error is not None, "the failure")
    assert app.launch_error is error and app.store is None
    assert finish_console(app) == 1
    assert "Configuration error" in capsys.readouterr().err


async def test_the_quit_key_on_the_first_frame_quits_even_while_loading(
        data: Data, config_file: Path) -> None:
    """The load may hang (a locked file): ctrl+q is not held with the other keys, and
    the store loaded after the console closed is closed, not left open."""
    record = await recorded(data, config_file)
    late = Store.open(str(data.store.db.database))
    load = HeldLoad(late, data.anna)
    app = launched(record, load)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: on_first_frame(app), "the first frame")
        await pilot.press("j", "ctrl+q")
        await until(pilot, lambda: app._exit, "the console to quit")
    load.release()
    assert app.launch_error is None and app.store is None
    for worker in list(app.workers):
        await worker.wait()
    await until_true(lambda: late.db.is_closed(), "the late store closed")


async def test_a_theme_changed_in_the_console_is_the_next_first_frame_s(
        data: Data, config_file: Path) -> None:
    app = SwitchboardApp(data.store, config_for(data.anna), data.anna, clock=frozen_clock,
                         remember=partial(remember, config_file, None))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: read_record(config_file, None) is not None, "a record")
        app.theme = "switchboard-high-contrast"
        await until(pilot, lambda: read_record(config_file, None).theme_name  # type: ignore[union-attr]
                    == "switchboard-high-contrast", "the record in the new theme")


def test_a_postgres_or_memory_console_leaves_no_record(config_file: Path) -> None:
    """``remember`` on a store that is not a SQLite file removes the record."""

    class NotAFile:
        store = type("S", (), {"postgres": True})()
        config = None
        inbox_start = object()

    from console.launch_record import launch_key, write_record

    write_record(config_file, None, LaunchRecord(
        key=launch_key(config_file, None), database="/x.db", schema_version=1,
        statements=("a", "b"), task_filter=TaskFilter(),
        filter_label="", language=None, theme=None, theme_name="textual-dark"))
    assert read_record(config_file, None) is not None
    remember(config_file, None, NotAFile())  # type: ignore[arg-type]
    assert read_record(config_file, None) is None


async def test_the_inbox_shows_the_first_frame_s_rows_until_its_page_arrives(
        data: Data) -> None:
    """The hand-over never blinks "Loading…": the first frame's rows stay until the
    inbox's own page replaces them."""
    rows = data.store.list_tasks(limit=PAGE_SIZE).items
    gate = threading.Event()

    class Slow:
        def list_tasks(self, *a: Any, **k: Any) -> Any:
            gate.wait(30)
            return data.store.list_tasks(*a, **k)

        def get_task(self, task_id: int) -> Any:
            return data.store.get_task(task_id)

    from textual.app import App, ComposeResult

    class One(App[None]):
        def compose(self) -> ComposeResult:
            tasks = TaskList(Slow(), id="tasks", clock=frozen_clock)
            tasks.show_meanwhile(rows[:2])
            yield tasks

    app = One()
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        tasks = app.query_one(TaskList)
        assert tasks.rows == rows[:2] and tasks.pages_loaded == 0
        assert rows[0].contact_name in tasks.render_line(0).text  # drawn, not "Loading…"
        gate.set()
        await until(pilot, lambda: tasks.pages_loaded == 1, "the page")
        assert tasks.rows == rows



def test_the_first_frame_looks_like_the_inbox_at_80x24(sqlite_store: Store, snap_compare: Any,
                                                       tmp_path: Path) -> None:
    """The first frame's looks: the inbox's panes in their places, the rows (Cyrillic
    names, channel tags, ages from the frozen clock), the filter bar, the status bar."""
    from textual.app import App, ComposeResult

    from console.themes import register_themes
    from tests.console.fixtures.scenes import busy

    busy(sqlite_store)
    tasks = sqlite_store.list_tasks(TaskFilter(hide_closed=True), limit=PAGE_SIZE).items

    class FirstFrame(App[None]):
        CSS_PATH = SwitchboardApp.CSS_PATH

        def __init__(self) -> None:
            super().__init__()
            register_themes(self)
            self.theme = "switchboard-dark"

        def compose(self) -> ComposeResult:
            frame = LaunchFrame(tasks, filter_label="Filter: All (open)  · 1–5",
                                channel_tags={"telegram": "TG", "webchat": "WEB"},
                                operator="Борис", role="operator",
                                connection="SQLite · channels on", clock=frozen_clock)
            frame.add_class("-narrow")
            yield frame

    async def rows_shown(pilot: Any) -> None:
        await until(pilot, lambda: len(pilot.app.query_one(TaskList).rows) == len(tasks),
                    "the rows")
        await pilot.pause()

    assert snap_compare(FirstFrame(), terminal_size=(80, 24), run_before=rows_shown)
