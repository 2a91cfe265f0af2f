"""Prepared SQL derived from the peewee models (issue 15).

peewee spends ~1 ms building the SQL of each statement (``bench/README.md``); the hot
paths of ingest (:mod:`storage.ingest_fast`, :mod:`storage.ingest_new`) and its result
read-back (:mod:`storage.reading`) write their statements once, from the models'
table and column names, and only bind values afterwards. This module is the one place
that turns a model into such SQL text, so a renamed column or table cannot leave a
hand-written statement behind.

Placeholders differ between SQLite (``?``) and PostgreSQL (``%s``); an INSERT returns
the new id through ``RETURNING`` on PostgreSQL and ``lastrowid`` on SQLite.
"""

from __future__ import annotations

from typing import Any

import peewee as pw


def table(model: Any) -> str:
    """The model's table name."""
    return str(model._meta.table_name)


def column(model: Any, name: str) -> str:
    """The column of the model's field ``name`` (a foreign key ``task`` is ``task_id``)."""
    return str(model._meta.fields[name].column_name)


def columns(model: Any, names: tuple[str, ...], alias: str = "") -> str:
    """``a.col1, a.col2, …`` for these fields of the model (no alias: bare names)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column(model, n) for n in names)


def placeholder(db: pw.Database) -> str:
    """The database driver's parameter mark."""
    return "%s" if isinstance(db, pw.PostgresqlDatabase) else "?"


def marks(db: pw.Database, count: int) -> str:
    """``?, ?, …`` (or ``%s, …``): ``count`` parameter marks."""
    return ", ".join([placeholder(db)] * count)


class Prepared:
    """Statement text per (table, fields) for one database, built once and reused."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self.postgres = isinstance(db, pw.PostgresqlDatabase)
        self.p = placeholder(db)
        self._insert_sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self._update_sql: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def marks(self, count: int) -> str:
        return marks(self.db, count)

    def one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self.db.execute_sql(sql, params).fetchone()  # type: ignore[no-any-return]

    # ---- INSERT --------------------------------------------------------------------------
    def insert_sql(self, model: Any, names: tuple[str, ...]) -> str:
        """``INSERT INTO <table> (<columns of names>) VALUES (…)`` (+ ``RETURNING`` id)."""
        meta = model._meta
        key = (meta.table_name, names)
        sql = self._insert_sql.get(key)
        if sql is None:
            sql = self._insert_sql[key] = (
                f"INSERT INTO {meta.table_name} ({columns(model, names)}) "
                f"VALUES ({self.marks(len(names))})"
                + (f" RETURNING {meta.primary_key.column_name}" if self.postgres else ""))
        return sql

    def insert(self, model: Any, given: dict[str, Any]) -> int:
        """``model.create(**given)``'s INSERT: the given fields plus the model's defaults
        (Python values, converted by each field's ``db_value``); returns the new id."""
        meta = model._meta
        values = dict(given)
        for field, default in meta.defaults.items():
            if field.name not in values:
                values[field.name] = default() if callable(default) else default
        names = tuple(values)
        fields = meta.fields
        params = tuple(fields[n].db_value(values[n]) for n in names)
        cursor = self.db.execute_sql(self.insert_sql(model, names), params)
        return int(cursor.fetchone()[0] if self.postgres else cursor.lastrowid)

    # ---- UPDATE --------------------------------------------------------------------------
    def update_sql(self, model: Any, names: tuple[str, ...],
                   increment: tuple[str, ...] = ()) -> str:
        """``UPDATE <table> SET <names> = ?, <increment> = <increment> + 1 WHERE id = ?``."""
        meta = model._meta
        key = (meta.table_name, names, increment)
        sql = self._update_sql.get(key)
        if sql is None:
            sets = [f"{column(model, n)} = {self.p}" for n in names]
            sets += [f"{column(model, n)} = {column(model, n)} + 1" for n in increment]
            sql = self._update_sql[key] = (
                f"UPDATE {meta.table_name} SET {', '.join(sets)} "
                f"WHERE {meta.primary_key.column_name} = {self.p}")
        return sql

    def update(self, model: Any, row_id: int, changes: dict[str, Any],
               increment: tuple[str, ...] = ()) -> None:
        """Set these fields (Python values) of one row and add 1 to ``increment``'s."""
        fields = model._meta.fields
        params = [fields[n].db_value(v) for n, v in changes.items()]
        self.db.execute_sql(self.update_sql(model, tuple(changes), increment),
                            (*params, row_id))
