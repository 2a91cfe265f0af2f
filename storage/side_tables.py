"""Tables beside the main schema (team mode, automation): bound per store, created on
first use, without a schema migration.

:class:`PerStore` is how each group of them is reached: ``team_models(store)`` builds the
group's models for that store's database and creates its tables once, then hands back
the same models. They are kept by the *store*, weakly: the models hold the database
(``Meta.database``), so a cache keyed by the database could never drop an entry, and
every store ever opened in the process stayed alive with its models
(tests/storage/test_side_tables.py).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import peewee as pw

__all__ = ["PerStore", "create_side_tables"]

M = TypeVar("M")


class PerStore(Generic[M]):
    """``build(store)`` once per store, its ``tables(models)`` created the first time."""

    def __init__(self, build: Callable[[Any], M],
                 tables: Callable[[M], list[type[pw.Model]]]) -> None:
        self._build, self._tables = build, tables
        self._lock = threading.Lock()
        self._built: weakref.WeakKeyDictionary[Any, M] = weakref.WeakKeyDictionary()

    def __call__(self, store: Any) -> M:
        with self._lock:
            found = self._built.get(store)
            if found is None:
                found = self._build(store)
                create_side_tables(store.db, self._tables(found))
                self._built[store] = found
            return found


def create_side_tables(db: pw.Database, tables: list[type[pw.Model]]) -> None:
    """``CREATE TABLE IF NOT EXISTS`` for tables beside the main schema (team mode,
    automation), safe when two processes create them at the same moment."""
    for attempt in range(3):
        try:
            lock = () if isinstance(db, pw.PostgresqlDatabase) else ("IMMEDIATE",)
            with db.atomic(*lock):
                db.create_tables(tables, safe=True)
            return
        except (pw.IntegrityError, pw.ProgrammingError, pw.OperationalError):
            # PostgreSQL: two processes creating the same table at once; one of them
            # fails on the catalog's unique index, and the retry then finds the table.
            if attempt == 2:
                raise
