"""Bulk loading through the store's own connection: fast inserts, then indexes.

Following docs anchors: a full-text index (or any secondary index) kept up to date
row by row dominates a bulk load, so the load first drops the search index the way
``storage.search.index`` documents for bulk imports (``uninstall``), then the other
secondary indexes and SQLite triggers of the tables it fills; inserts with
``executemany`` (SQLite) or ``execute_values`` (PostgreSQL) in large transactions;
then re-creates the indexes and triggers, rebuilds the search index with
``storage.search.index.install`` (batched fill, then FTS5 ``optimize`` — skipping it
makes every later single insert ~5x slower), and resets sequences. Without that
module, external-content FTS5 tables found in the schema get ``rebuild`` +
``optimize``. The schema itself always comes from ``Store.open``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from storage.store import Store

BULK_TABLES = ("contact", "identity", "task", "message", "attachment", "audit")


class Bar:
    """A plain-text progress bar on stderr (a line every 10 % when not a terminal)."""

    def __init__(self, label: str, total: int, quiet: bool = False) -> None:
        self.label, self.total, self.quiet = label, max(total, 1), quiet
        self.done, self.started, self._last = 0, time.monotonic(), -1.0
        self.tty = sys.stderr.isatty()

    def add(self, n: int) -> None:
        self.done += n
        self._draw(final=False)

    def finish(self) -> None:
        if self.done >= self.total and not self.tty:
            return  # the last add already printed 100 %
        self.done = self.total
        self._draw(final=True)

    def _draw(self, final: bool) -> None:
        if self.quiet:
            return
        frac = min(self.done / self.total, 1.0)
        now = time.monotonic()
        if self.tty:
            if not final and now - self._last < 0.2:
                return
        elif not final and int(frac * 10) == int(max(self._last, 0) * 10):
            return
        self._last = now if self.tty else frac
        filled = int(frac * 30)
        line = (f"{self.label:<22} [{'#' * filled}{'.' * (30 - filled)}] {frac:4.0%} "
                f"{self.done:,}/{self.total:,} {now - self.started:6.1f}s")
        sys.stderr.write(("\r" + line + ("\n" if final else "")) if self.tty else line + "\n")
        sys.stderr.flush()


def insert_rows(store: Store, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` into ``table`` in the caller's transaction, with the driver's bulk API."""
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in cols)
    cur = store.db.cursor()
    if store.postgres:
        from psycopg2.extras import execute_values

        execute_values(cur, f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=5000)
    else:
        marks = ", ".join("?" for _ in cols)
        cur.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def _in_list(tables: Sequence[str]) -> str:
    return ", ".join(f"'{t}'" for t in tables)


@contextmanager
def bulk_mode(store: Store, tables: Sequence[str] = BULK_TABLES, quiet: bool = False) -> Iterator[None]:
    """Drop secondary indexes (and SQLite triggers) of ``tables``; restore and rebuild after."""
    db = store.db
    search = _search_index()
    if search is not None:
        with db.atomic():
            search.uninstall(db)
    if store.postgres:
        indexes = db.execute_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            f"AND tablename IN ({_in_list(tables)}) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)").fetchall()
        triggers: list[tuple[str, str]] = []
    else:
        indexes = db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({_in_list(tables)})").fetchall()
        triggers = db.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            f"AND tbl_name IN ({_in_list(tables)})").fetchall()
        db.execute_sql("PRAGMA foreign_keys = OFF")
        db.execute_sql("PRAGMA synchronous = OFF")
        db.execute_sql("PRAGMA cache_size = -200000")
    with db.atomic():
        for name, _sql in triggers:
            db.execute_sql(f'DROP TRIGGER "{name}"')
        for name, _sql in indexes:
            db.execute_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        bar = Bar("indexes", len(indexes) + len(triggers), quiet)
        with db.atomic():
            for _name, sql in indexes:
                db.execute_sql(sql)
                bar.add(1)
            for _name, sql in triggers:
                db.execute_sql(sql)
                bar.add(1)
        bar.finish()
        if search is not None:
            bars: dict[str, Bar] = {}

            def progress(label: str, done: int, total: int) -> None:
                bar = bars.setdefault(label, Bar(f"search: {label}"[:22], total, quiet))
                bar.add(done - bar.done)

            with db.atomic():
                search.install(db, progress)
            for b in bars.values():
                b.finish()
        if store.postgres:
            for table in tables:
                db.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table}"), 1))')
            db.execute_sql("ANALYZE")
        else:
            if search is None:
                rebuild_fts(store, quiet)
            db.execute_sql("PRAGMA foreign_keys = ON")
            db.execute_sql("PRAGMA synchronous = FULL")
            db.execute_sql("PRAGMA cache_size = -32000")


def _search_index() -> Any:
    """``storage.search.index`` when the search feature is installed, else None."""
    try:
        from storage.search import index
    except ImportError:
        return None
    return index if hasattr(index, "install") and hasattr(index, "uninstall") else None


def rebuild_fts(store: Store, quiet: bool = False) -> list[str]:
    """``rebuild`` then ``optimize`` every external-content FTS5 table; returns their names."""
    rows = store.db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND sql LIKE 'CREATE VIRTUAL TABLE%' AND lower(sql) LIKE '%fts5%'").fetchall()
    names = [name for name, sql in rows if "content=" in sql.lower().replace(" ", "")
             and "content=''" not in sql.lower().replace(" ", "")]
    bar = Bar("full-text index", 2 * len(names), quiet or not names)
    for name in names:
        for command in ("rebuild", "optimize"):
            with store.db.atomic():
                store.db.execute_sql(f'INSERT INTO "{name}"("{name}") VALUES (?)', (command,))
            bar.add(1)
    bar.finish()
    return names
