"""The launch record (``console.launch_record``, issue 20) is only used for the start it
was written for, and an unreadable one is no record at all.

Plain pytest: files in ``tmp_path``, the cache directory pointed there.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from console.launch_record import (
    LaunchRecord,
    forget_record,
    launch_key,
    read_record,
    record_path,
    write_record,
)
from storage.inputs import TaskFilter


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("operator: {name: Борис, role: operator}\ndatabase: /tmp/x.db\n",
                    encoding="utf-8")
    return path


def record(key: str, **changes: object) -> LaunchRecord:
    values: dict[str, object] = dict(
        key=key, database="/tmp/x.db", schema_version=6,
        statements=("SELECT 1", "SELECT 2 LIMIT ?"),
        task_filter=TaskFilter(statuses=("new", "waiting"), hide_closed=True),
        filter_label="Фильтр: все (открытые)", language="ru",
        theme={"name": "mine", "primary": "#123456", "dark": True}, theme_name="mine",
        keys={"tasks.next": "n"}, channel_tags={"telegram": "TG"}, operator="Борис",
        role="operator", connection="SQLite · channels on")
    values.update(changes)
    return LaunchRecord(**values)  # type: ignore[arg-type]


def test_a_written_record_reads_back_whole(cache: Path, config: Path) -> None:
    written = record(launch_key(config, None))
    write_record(config, None, written)
    assert read_record(config, None) == written
    path = record_path(config, None)
    assert path.is_relative_to(cache)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # this user's only
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary left


def test_a_record_is_only_for_the_same_config_db_and_environment(
        cache: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_record(config, None, record(launch_key(config, None)))
    assert read_record(config, "/tmp/other.db") is None  # another --db
    monkeypatch.setenv("LANGUAGE", "en")  # another language from the environment
    assert read_record(config, None) is None
    monkeypatch.delenv("LANGUAGE")
    assert read_record(config, None) is not None
    config.write_text(config.read_text(encoding="utf-8") + "theme: x\n", encoding="utf-8")
    assert read_record(config, None) is None  # the config was edited: a plain start
    other = config.with_name("other.yaml")
    other.write_bytes(b"")
    assert read_record(other, None) is None


def test_a_relative_db_from_another_directory_is_another_start(
        cache: Path, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--db desk.db`` in two directories names two files: the first frame of one must
    never show the other's tasks."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    write_record(config, "desk.db", record(launch_key(config, "desk.db")))
    assert read_record(config, "desk.db") is not None
    monkeypatch.chdir(tmp_path / "b")
    assert read_record(config, "desk.db") is None
    write_record(config, "desk.db", record(launch_key(config, "desk.db"), database="/b/desk.db"))
    monkeypatch.chdir(tmp_path / "a")  # each directory keeps its own
    assert read_record(config, "desk.db") is not None
    assert read_record(config, "desk.db").database == "/tmp/x.db"  # type: ignore[union-attr]


def test_a_record_of_other_task_columns_or_format_is_ignored(
        cache: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import console.launch_record as launch_record

    key = launch_key(config, None)
    write_record(config, None, record(key))
    monkeypatch.setattr(launch_record, "TASK_COLUMNS", ("id", "title"))  # another version
    assert read_record(config, None) is None
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(launch_record, "FORMAT", 2)
    assert read_record(config, None) is None


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"format": 1}', b"\xff\xfe",
                                     b'{"format": 1, "task_columns": null}'])
def test_an_unreadable_record_is_no_record(cache: Path, config: Path, content: bytes) -> None:
    path = record_path(config, None)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert read_record(config, None) is None


def test_a_record_with_a_field_too_many_or_missing_is_no_record(cache: Path,
                                                                config: Path) -> None:
    import json

    key = launch_key(config, None)
    data = json.loads(record(key).to_json())
    path = record_path(config, None)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data | {"extra": 1}), encoding="utf-8")
    assert read_record(config, None) is None
    del data["database"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_record(config, None) is None


def test_forget_removes_it_and_is_harmless_twice(cache: Path, config: Path) -> None:
    write_record(config, None, record(launch_key(config, None)))
    forget_record(config, None)
    assert read_record(config, None) is None
    forget_record(config, None)


def test_the_default_config_path_counts_too(cache: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """No --config: the record follows the default file (missing here) and the
    directories that decide it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    key = launch_key(None, None)
    write_record(None, None, record(key))
    assert read_record(None, None) is not None
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg2"))
    assert read_record(None, None) is None
