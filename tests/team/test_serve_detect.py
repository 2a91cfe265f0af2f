"""A console that finds a ``switchboard serve`` running for its SQLite file does not
start a second gateway; a crashed ``serve`` is never mistaken for a running one."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from connectors.serve_marker import ServeMarker, marker_directory, serve_running
from console.bootstrap import open_store, runs_own_gateway, serve_marker, sqlite_file
from console.cli import make_console
from console.config import parse_config
from storage.store import Store
from tests.team.procs import Children

CONFIG = ("operator: {name: Anna}\nlanguage: en\nserver: {host: 127.0.0.1, port: 0}\n"
          "channels: [{name: web, kind: webchat}]\n")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def test_a_held_marker_is_seen_and_a_released_one_is_not(sqlite_path: Path) -> None:
    db = str(sqlite_path)
    assert not serve_running(db)
    with ServeMarker(db) as marker:
        assert marker.path is not None and marker.path.parent == marker_directory(db)
        assert serve_running(db) and serve_running(db)  # looking does not disturb it
    assert not serve_running(db)
    assert list(marker_directory(db).iterdir()) == []


def test_consoles_looking_together_never_see_each_other(sqlite_path: Path) -> None:
    db = str(sqlite_path)
    marker_directory(db).mkdir()
    (marker_directory(db) / "left-by-a-crash.lock").touch()  # unlocked: a dead serve's
    answers: list[bool] = []
    start = threading.Barrier(8)

    def look() -> None:
        start.wait()
        answers.extend(serve_running(db) for _ in range(50))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [False] * 400
    assert list(marker_directory(db).iterdir()) == []


def test_console_beside_a_running_serve_starts_no_gateway(
        tmp_path: Path, sqlite_path: Path, children: Children,
        capsys: pytest.CaptureFixture[str]) -> None:
    config_path = tmp_path / "anna.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config_path.chmod(0o600)
    config = parse_config(CONFIG)
    store = open_store(config, str(sqlite_path))
    try:
        assert sqlite_file(store) == str(sqlite_path)
        assert runs_own_gateway(store)  # alone on its file: the console runs the channels
        serve = children.start("--config", str(config_path), "--db", str(sqlite_path),
                               "serve", module="console.cli")
        serve.expect_text("Serving")
        assert not runs_own_gateway(store)
        app = make_console(store, config)
        assert not app.runs_gateway and capsys.readouterr().out == ""
        # A serve that dies without cleaning up leaves no stale claim behind.
        os.kill(serve.proc.pid, signal.SIGKILL)
        serve.proc.wait(timeout=30)
        assert runs_own_gateway(store)
        app = make_console(store, config)
        assert app.runs_gateway  # built by the app after its first rows (issue 20)
    finally:
        store.close()


def test_a_serve_that_stops_cleanly_removes_its_marker(
        tmp_path: Path, sqlite_path: Path, children: Children) -> None:
    config_path = tmp_path / "serve.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config_path.chmod(0o600)
    serve = children.start("--config", str(config_path), "--db", str(sqlite_path), "serve",
                           module="console.cli")
    serve.expect_text("Serving")
    assert serve_running(str(sqlite_path))
    serve.proc.send_signal(signal.SIGTERM)
    assert serve.proc.wait(timeout=60) == 0
    assert list(marker_directory(str(sqlite_path)).iterdir()) == []
    assert not serve_running(str(sqlite_path))


@pytest.mark.postgres
def test_consoles_on_postgres_never_run_a_gateway(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        assert sqlite_file(store) is None and serve_marker(store) is None
        assert not runs_own_gateway(store)
    finally:
        store.close()
