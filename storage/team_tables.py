"""The team-mode tables: operator availability and channel leases.

They live beside the main schema rather than in it (:mod:`storage.side_tables`): each
is created on first use with ``CREATE TABLE IF NOT EXISTS``, once per store, so an
existing database gains them without a schema migration. Models are bound per
database, like :mod:`storage.models`, so two stores can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from storage.models import TimeField, utcnow
from storage.side_tables import PerStore


@dataclass(frozen=True)
class TeamModels:
    Availability: type[pw.Model]
    Lease: type[pw.Model]


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


# The team tables of ``store``'s database, created if they do not exist yet.
team_models: PerStore[TeamModels] = PerStore(
    lambda store: _build(store.db, store.m.Operator),
    lambda models: [models.Availability, models.Lease])
