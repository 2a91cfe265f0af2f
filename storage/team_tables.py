"""The team-mode tables: operator availability and channel leases.

They live beside the main schema rather than in it: each is created on first use with
``CREATE TABLE IF NOT EXISTS`` (``create_tables(safe=True)``), once per database per
process, so an existing database gains them without a schema migration. Models are
bound per database, like :mod:`storage.models`, so two stores can live in one process.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import peewee as pw

from storage.models import TimeField, utcnow

if TYPE_CHECKING:
    from storage.core import StoreCore


@dataclass(frozen=True)
class TeamModels:
    Availability: type[pw.Model]
    Lease: type[pw.Model]


_lock = threading.Lock()
# Keyed by the store, not its database: the models hold the database (``Meta.database``),
# so an entry keyed by it could never be dropped, and every store ever opened in the
# process stayed alive with its models (tests/storage/test_side_tables.py).
_built: weakref.WeakKeyDictionary[StoreCore, TeamModels] = weakref.WeakKeyDictionary()


def team_models(store: StoreCore) -> TeamModels:
    """The team tables of ``store``'s database, created if they do not exist yet."""
    with _lock:
        found = _built.get(store)
        if found is None:
            found = _build(store.db, store.m.Operator)
            _create(store.db, found)
            _built[store] = found
        return found


def _build(db: pw.Database, operator_model: type[pw.Model]) -> TeamModels:
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Availability(Base):
        """Whether an operator takes new work (auto-assignment) and their own open-task limit."""

        operator = pw.ForeignKeyField(operator_model, primary_key=True, on_delete="CASCADE")
        available = pw.BooleanField(default=False)
        max_open = pw.IntegerField(null=True)
        changed_at = TimeField(default=utcnow)

        class Meta:
            table_name = "operator_availability"

    class Lease(Base):
        """Who runs a named job (a channel's poller) until when, in database-clock micros."""

        name = pw.CharField(primary_key=True, max_length=200)
        holder = pw.CharField(max_length=200)
        expires_at = pw.BigIntegerField()
        acquired_at = pw.BigIntegerField()

        class Meta:
            table_name = "team_lease"

    return TeamModels(Availability=Availability, Lease=Lease)


def _create(db: pw.Database, models: TeamModels) -> None:
    create_side_tables(db, [models.Availability, models.Lease])


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
