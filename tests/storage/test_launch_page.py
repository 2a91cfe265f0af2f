"""The first tasks read without the ORM (``storage.launch_page``, issue 20) are the
store's first page of the same filter, and reading them changes nothing.

Plain pytest on a real SQLite file; the console's first frame shows these rows.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.inputs import Inbound, TaskFilter
from storage.launch_page import read_first_tasks
from storage.store import Store

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def filled(store: Store) -> dict[str, int]:
    """Forty tasks over two channels: some assigned, some closed, some snoozed, Cyrillic
    names and JSON data; returns a few ids by role."""
    web = store.ensure_channel("webchat", "web").id
    tg = store.ensure_channel("telegram", "tg").id
    anna = store.ensure_operator("Anna", "operator")
    ids: dict[str, int] = {"anna": anna.id}
    for n in range(40):
        result = store.ingest(Inbound(
            channel_id=web if n % 2 else tg, chat_id=f"c{n}", sender_id=f"c{n}",
            text=f"Сообщение {n}", external_id=f"m{n}", sent_at=T0 + timedelta(minutes=n),
            display_name=f"Клиент {n}",
            system_data={"page": f"https://shop.example/p/{n}"}))
        task = result.task.id
        if n % 3 == 0:
            store.assign([task], anna.id)
        if n % 7 == 0:
            store.set_status([task], "completed")
        if n % 11 == 0:
            store.snooze([task], until=datetime.now(UTC) + timedelta(days=1))
        ids[f"t{n}"] = task
    return ids


FILTERS = {
    "all open": TaskFilter(hide_closed=True),
    "mine": lambda ids: TaskFilter(assignee_id=ids["anna"], active_only=True, hide_closed=True),
    "unassigned": TaskFilter(unassigned=True, active_only=True, hide_closed=True),
    "one status": TaskFilter(statuses=("completed",)),
    "snoozed only": TaskFilter(snoozed_only=True),
    "everything": TaskFilter(),
}


@pytest.mark.parametrize("name", FILTERS)
def test_the_first_tasks_are_the_stores_first_page(sqlite_store: Store, sqlite_path: Path,
                                                   name: str) -> None:
    ids = filled(sqlite_store)
    wanted = FILTERS[name]
    task_filter = wanted(ids) if callable(wanted) else wanted
    for limit in (5, 50):
        page = sqlite_store.list_tasks(task_filter, limit=limit).items
        assert page, "the filter keeps some tasks"
        read = read_first_tasks(str(sqlite_path), sqlite_store.schema_version,
                                sqlite_store.launch_statements(), task_filter, limit)
        assert read == page  # same rows (every field), same order


def test_reading_changes_and_creates_nothing(sqlite_store: Store, sqlite_path: Path,
                                            tmp_path: Path) -> None:
    filled(sqlite_store)
    sqlite_store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    before = hashlib.sha256(sqlite_path.read_bytes()).hexdigest()
    statements = sqlite_store.launch_statements()
    assert read_first_tasks(str(sqlite_path), sqlite_store.schema_version, statements,
                            TaskFilter(), 10)
    assert hashlib.sha256(sqlite_path.read_bytes()).hexdigest() == before
    missing = tmp_path / "nowhere" / "gone.db"
    assert read_first_tasks(str(missing), sqlite_store.schema_version, statements,
                            TaskFilter(), 10) is None
    assert not missing.exists() and not missing.parent.exists()


def test_another_schema_or_a_broken_file_gives_no_rows(sqlite_store: Store, sqlite_path: Path,
                                                      tmp_path: Path) -> None:
    filled(sqlite_store)
    statements = sqlite_store.launch_statements()
    version = sqlite_store.schema_version
    assert read_first_tasks(str(sqlite_path), version + 1, statements, TaskFilter(), 10) is None
    assert read_first_tasks(str(sqlite_path), version,
                            (statements[0], "SELECT nonsense FROM task LIMIT ?"),
                            TaskFilter(), 10) is None
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert read_first_tasks(str(junk), version, statements, TaskFilter(), 10) is None


def test_a_filter_that_keeps_few_tasks_gives_the_top_ones_found(
        sqlite_store: Store, sqlite_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only SCAN_LIMIT tasks are read: a filter keeping fewer than a page among them
    shows those, which are the top of its list all the same."""
    import storage.launch_page as launch_page

    ids = filled(sqlite_store)
    monkeypatch.setattr(launch_page, "SCAN_LIMIT", 12)
    mine = TaskFilter(assignee_id=ids["anna"], active_only=True, hide_closed=True)
    read = read_first_tasks(str(sqlite_path), sqlite_store.schema_version,
                            sqlite_store.launch_statements(), mine, 50)
    page = sqlite_store.list_tasks(mine, limit=50).items
    assert read is not None and 0 < len(read) < len(page)
    assert read == page[:len(read)]


def test_a_file_under_a_cyrillic_path_with_spaces_reads(tmp_path: Path) -> None:
    path = tmp_path / "папка с пробелом" / "база #1?.db"
    path.parent.mkdir()
    store = Store.open(str(path))
    try:
        filled(store)
        read = read_first_tasks(str(path), store.schema_version, store.launch_statements(),
                                TaskFilter(hide_closed=True), 10)
        assert read == store.list_tasks(TaskFilter(hide_closed=True), limit=10).items
    finally:
        store.close()
