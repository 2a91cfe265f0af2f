"""storage.checkpointer: a busy writer's commits leave the WAL checkpoints to a thread.

What is checked is behaviour, not speed: the writer's own commits stop copying the log
into the database file (its log grows past SQLite's 1,000-page checkpoint point when
nobody else copies it), the thread copies it once enough was committed (the log is
reused from its start and stays small), nothing is lost on the way, and ``close`` stops
the thread after a last pass.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import peewee as pw
import pytest

from connectors.registry import policies
from storage.checkpointer import MESSAGES_PER_PASS, BackgroundCheckpointer, checkpoint_beside
from storage.inputs import Inbound
from storage.store import Store

COMMITS = 120
PER_COMMIT = 10
PAGE = 4096


def _write(store: Store, channel: int, ids: itertools.count, after_commit: object = None) -> None:
    """COMMITS commits of PER_COMMIT long messages (each commit adds dozens of log pages)."""
    for _ in range(COMMITS):
        batch = []
        for _ in range(PER_COMMIT):
            n = next(ids)
            batch.append(Inbound(channel, f"chat-{n % 50}", f"Клиент {n % 50}",
                                 f"сообщение {n} " + "текст " * 120, external_id=f"m-{n}"))
        store.ingest_many(batch)
        if callable(after_commit):
            after_commit()


def _wal_pages(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


def _wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the checkpointer did not catch up"
        time.sleep(0.005)


@pytest.fixture
def opened(tmp_path: Path):
    path = tmp_path / "desk.db"
    store = Store.open(str(path), policies=policies())
    channel = store.ensure_channel("telegram", "tg", None)
    yield store, path, channel
    store.close()


def test_the_writers_commits_no_longer_checkpoint(opened) -> None:
    store, path, channel = opened
    checkpointer = checkpoint_beside(store.db)
    assert checkpointer is not None
    try:
        _write(store, channel.id, itertools.count(1))  # never woken: nobody copies the log
        # SQLite's own commits reuse the log from its start once it passes 1,000 pages
        # (the file stays a little over that); here it only grows (4,500 pages).
        assert _wal_pages(path) > 2000
    finally:
        checkpointer.close()


def test_a_pass_after_each_commit_keeps_the_log_small_and_loses_nothing(opened) -> None:
    store, path, channel = opened
    checkpointer = checkpoint_beside(store.db, every=PER_COMMIT)
    assert checkpointer is not None

    def commit_made() -> None:
        before = checkpointer.passes
        checkpointer.committed(PER_COMMIT)
        _wait_for(lambda: checkpointer.passes > before)

    try:
        _write(store, channel.id, itertools.count(1), commit_made)
        assert checkpointer.passes >= COMMITS
        assert _wal_pages(path) < 300  # reused from its start: about one commit's pages
    finally:
        checkpointer.close()
    stored = store.db.execute_sql("SELECT count(*) FROM message WHERE kind = 'inbound'")
    assert stored.fetchone()[0] == COMMITS * PER_COMMIT
    # The database file alone (the log copied in) holds every message.
    reader = sqlite3.connect(path)
    try:
        assert reader.execute("SELECT count(*) FROM message").fetchone()[0] >= COMMITS * PER_COMMIT
    finally:
        reader.close()


def test_by_default_a_pass_comes_every_few_hundred_messages(opened) -> None:
    """As often as SQLite itself would checkpoint (a pass after every batch cost the
    helper ~7 % of its peak rate), and the log stays near SQLite's own bound."""
    store, path, channel = opened
    checkpointer = checkpoint_beside(store.db)
    assert checkpointer is not None
    try:
        _write(store, channel.id, itertools.count(1),
               lambda: checkpointer.committed(PER_COMMIT))
        due = COMMITS * PER_COMMIT // MESSAGES_PER_PASS
        _wait_for(lambda: checkpointer.passes == due)
        assert _wal_pages(path) < 2000  # 4,500 with no pass at all
    finally:
        checkpointer.close()
    assert checkpointer.passes == due + 1  # and the last one


def test_a_pass_is_asked_for_once_enough_was_committed(tmp_path: Path) -> None:
    checkpointer = BackgroundCheckpointer(str(tmp_path / "x.db"), every=3)  # not started
    checkpointer.committed(1)
    checkpointer.committed(1)
    assert not checkpointer._wanted.is_set()
    checkpointer.committed(1)
    assert checkpointer._wanted.is_set()
    checkpointer._wanted.clear()
    checkpointer.committed(2)  # counting starts again after a pass was asked for
    assert not checkpointer._wanted.is_set()


def test_close_runs_a_last_pass_and_stops_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.commit()
    checkpointer = BackgroundCheckpointer(str(path)).start()
    conn.execute("INSERT INTO t VALUES ('один')")
    conn.commit()
    checkpointer.close()
    assert checkpointer.passes == 1
    assert not checkpointer._thread.is_alive()
    conn.close()


def test_only_a_sqlite_file_gets_one() -> None:
    memory = pw.SqliteDatabase(":memory:")
    assert checkpoint_beside(memory) is None
    postgres = pw.PostgresqlDatabase("nowhere")  # never connected
    assert checkpoint_beside(postgres) is None


def test_a_file_it_cannot_open_leaves_the_checkpoints_to_the_commits(tmp_path: Path, caplog) -> None:
    checkpointer = BackgroundCheckpointer(str(tmp_path / "missing" / "dir" / "x.db")).start()
    checkpointer.committed(1)
    checkpointer.close()  # returns: the thread has ended on its own
    assert checkpointer.passes == 0 and not checkpointer._thread.is_alive()
    assert "WAL checkpoints stay in the commits" in caplog.text
