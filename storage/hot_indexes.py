"""Partial indexes for reads that would otherwise scan every task (issue 20).

Three reads run whenever a console or ``serve`` starts, and again on every change:

* the unread total in the window title (``Triage.unread_total``: ``SUM(unread_count)``
  over the open, not snoozed tasks with ``unread_count > 0``);
* the automation runner's snooze timer (``Scheduling.next_snooze_end``: the smallest
  ``snoozed_until``) and ``Scheduling.end_snoozes`` (the snoozes that ended).

Without an index each is a scan of the whole task table (0.1–0.8 s at 100,000 tasks on
a loaded machine, competing with the first frame). Both indexes are partial: they hold
only the few tasks with unread messages or a snooze, so they cost the ingest nearly
nothing, and the reads become O(unread tasks) and O(1).

They are not a schema version: :func:`ensure_hot_indexes` runs at every open, creates
what is missing (one catalogue read when nothing is), and an older Switchboard opening
the file simply does not use them.
"""

from __future__ import annotations

import peewee as pw

# name → (table, columns, the partial index's condition)
HOT_INDEXES: dict[str, tuple[str, tuple[str, ...], str]] = {
    # Covering for unread_total: status, snooze and the count are read from the index.
    "task_unread_open": ("task", ("status", "unread_count", "snoozed_until",
                                  "snooze_until_client"), "unread_count > 0"),
    "task_snoozed_until": ("task", ("snoozed_until",), "snoozed_until IS NOT NULL"),
}


def ensure_hot_indexes(db: pw.Database) -> list[str]:
    """Create the missing :data:`HOT_INDEXES`; returns the names created."""
    created: list[str] = []
    by_table: dict[str, set[str]] = {}
    for name, (table, columns, where) in HOT_INDEXES.items():
        if table not in by_table:
            by_table[table] = {index.name for index in db.get_indexes(table)}
        if name in by_table[table]:
            continue
        cols = ", ".join(f'"{c}"' for c in columns)
        try:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({cols}) '
                           f"WHERE {where}")
        except pw.DatabaseError:
            # Another process opening the same database created it first (PostgreSQL can
            # report that race as an error even with IF NOT EXISTS).
            if name not in {index.name for index in db.get_indexes(table)}:
                raise
            continue
        created.append(name)
    return created
