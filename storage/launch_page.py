"""The first tasks of a list, read from a SQLite file without the ORM (issue 20).

The console's first frame (:mod:`console.launch`) shows the real task list before the
store is loaded: peewee, the models and the migrations cost ~0.2 s of a start. This
reads the newest tasks with plain :mod:`sqlite3`, on a read-only connection, with the
SQL the store wrote from its models (``Store.launch_statements``, kept in the launch
record), and keeps those the list's filter keeps, by :meth:`TaskFilter.matches`, the
filter's rules outside SQL. What it returns is the top of the filtered list, in its
order, as fresh as the file: the rows the store's ``list_tasks`` would return first.

It changes nothing and creates nothing: a missing file, another schema version, a
locked or damaged database all give None, and the console simply starts without an
early frame.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from storage.convert import task_row_from_db
from storage.inputs import TaskFilter
from storage.rows import TaskRow
from storage.timestamps import utcnow

# Tasks read to find a page of those the filter keeps. A filter that keeps fewer (the
# tasks of one operator among many) shows the ones found; the store's page follows.
SCAN_LIMIT = 1_000


def read_first_tasks(database: str, schema_version: int, statements: tuple[str, str],
                     task_filter: TaskFilter, limit: int,
                     now: datetime | None = None) -> tuple[TaskRow, ...] | None:
    """Up to ``limit`` tasks at the top of the list ``task_filter`` makes, newest first;
    None when the file is not there, not at ``schema_version``, or cannot be read.

    ``statements``: ``Store.launch_statements()``, the version's and the tasks' SQL."""
    path = Path(database)
    if not path.is_file():
        return None
    at = now or utcnow()
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        version_sql, tasks_sql = statements
        version = connection.execute(version_sql).fetchone()
        if version is None or str(version[0]) != str(schema_version):
            return None
        found: list[TaskRow] = []
        for raw in connection.execute(tasks_sql, (SCAN_LIMIT,)):
            task = task_row_from_db(raw)
            if task_filter.matches(task, at):
                found.append(task)
                if len(found) == limit:
                    break
        return tuple(found)
    except (sqlite3.Error, ValueError, TypeError, IndexError):
        return None
    finally:
        connection.close()
