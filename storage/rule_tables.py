"""The automation's tables (the firing log, the console notifications), bound per store.

They live beside the main schema, like the team tables (:mod:`storage.team_tables`),
and are created when the store opens. This module holds only the tables, so opening a
store does not import the rules engine; the rows and queries are in
:mod:`storage.rules.log`.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from storage.models import JSONField, TimeField, utcnow
from storage.side_tables import PerStore


@dataclass(frozen=True)
class RuleModels:
    Firing: type[pw.Model]
    Notification: type[pw.Model]


def _build(db: pw.Database) -> RuleModels:
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Firing(Base):
        rule = pw.CharField(max_length=100)
        task = pw.IntegerField(index=True)
        occurrence = pw.BigIntegerField()
        trigger = pw.CharField(max_length=40)
        outcome = pw.CharField(max_length=20)
        detail = JSONField(default=dict)
        at = TimeField(default=utcnow)

        class Meta:
            table_name = "automation_firing"
            indexes = ((("rule", "task", "occurrence"), True),)

    class Notification(Base):
        task = pw.IntegerField(null=True, index=True)
        operator = pw.IntegerField(null=True, index=True)
        rule = pw.CharField(max_length=100)
        text = pw.TextField()
        at = TimeField(default=utcnow)
        seen = pw.BooleanField(default=False)

        class Meta:
            table_name = "automation_notification"

    return RuleModels(Firing=Firing, Notification=Notification)


# The automation tables bound to ``store``'s database, created if missing.
rule_models: PerStore[RuleModels] = PerStore(
    lambda store: _build(store.db), lambda models: [models.Firing, models.Notification])
