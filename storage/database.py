"""Opening a database by URL, creating the schema and migrating it.

* No URL, a plain path or ``sqlite:///path``: SQLite, one file, WAL mode.
* ``postgresql://...`` (or ``postgres://``): PostgreSQL through psycopg2.

What a URL means before connecting is :mod:`storage.database_url`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee as pw

from storage.database_url import default_sqlite_path, is_postgres, redact_url
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.models import Models
from storage.text import fold

SCHEMA_VERSION = 6

# Each entry upgrades the schema from version N-1 to N; run in order inside a transaction.
# A fresh database is created at version 1 from the models, then runs every migration,
# so a migration must be idempotent about what the current models already created.
# ``progress(label, done, total)`` reports long steps (re-indexing) to a progress bar.
Progress = Callable[[str, int, int], None]
Migration = Callable[[pw.Database, Models, Progress], None]


def _migrate_search(db: pw.Database, models: Models, progress: Progress) -> None:
    """2: full-text search (FTS5 / tsvector + GIN) over messages, contacts and tasks."""
    from storage.search.index import migrate

    migrate(db, models, progress)


def _migrate_addresses(db: pw.Database, models: Models, progress: Progress) -> None:
    """3: every message records its own address (``message.chat_id``); operators' drafts.

    Old rows take the chat of the task they were written in: the task they were moved
    from by a merge (``moved_from``, which keeps the first one), else their own task,
    and only where that task's channel is the message's channel."""
    M = models.Message
    if "chat_id" not in {c.name for c in db.get_columns(M._meta.table_name)}:
        db.execute_sql("ALTER TABLE message ADD COLUMN chat_id VARCHAR(200)")
    progress(_("Recording each message's address"), 0, 1)
    db.execute_sql(
        "UPDATE message SET chat_id = (SELECT t.chat_id FROM task t WHERE "
        "t.id = COALESCE(message.moved_from_id, message.task_id) "
        "AND t.channel_id = message.channel_id) "
        "WHERE chat_id IS NULL AND channel_id IS NOT NULL AND kind IN ('inbound', 'outbound')")
    M._schema.create_indexes(safe=True)
    db.create_tables([models.Draft], safe=True)
    progress(_("Recording each message's address"), 1, 1)


def _migrate_snooze(db: pw.Database, models: Models, progress: Progress) -> None:
    """4: snoozed tasks (``task.snoozed_until``, ``task.snooze_until_client``)."""
    columns = {c.name for c in db.get_columns(models.Task._meta.table_name)}
    if "snoozed_until" not in columns:
        db.execute_sql("ALTER TABLE task ADD COLUMN snoozed_until BIGINT")
    if "snooze_until_client" not in columns:
        kind = "BOOLEAN" if isinstance(db, pw.PostgresqlDatabase) else "INTEGER"
        false = "false" if isinstance(db, pw.PostgresqlDatabase) else "0"
        db.execute_sql(f"ALTER TABLE task ADD COLUMN snooze_until_client {kind} NOT NULL "
                       f"DEFAULT {false}")


def _migrate_search_merges(db: pw.Database, models: Models, progress: Progress) -> None:
    """5: SQLite's full-text index merges its segments less often (fewer slow commits)."""
    from storage.search.index import migrate_merge_policy

    migrate_merge_policy(db, models, progress)


def unindexed_foreign_keys(models: Models) -> dict[str, frozenset[str]]:
    """Per table, the foreign-key columns the models declare ``index=False``: each leads a
    composite index of its table, which serves it (``storage.models``)."""
    found: dict[str, frozenset[str]] = {}
    for model in models.all():
        columns = frozenset(f.column_name for f in model._meta.sorted_fields
                            if isinstance(f, pw.ForeignKeyField) and not f.index and not f.unique)
        if columns:
            found[model._meta.table_name] = columns
    return found


def _migrate_covered_indexes(db: pw.Database, models: Models, progress: Progress) -> None:
    """6: drop the index peewee made for each of those keys before they were declared
    ``index=False`` (every insert wrote them: ~10 % of a small batch's commit on the
    1M-message database)."""
    for table, columns in unindexed_foreign_keys(models).items():
        for index in db.get_indexes(table):
            if not index.unique and len(index.columns) == 1 and index.columns[0] in columns:
                db.execute_sql(f'DROP INDEX "{index.name}"')


MIGRATIONS: dict[int, Migration] = {2: _migrate_search, 3: _migrate_addresses,
                                    4: _migrate_snooze, 5: _migrate_search_merges,
                                    6: _migrate_covered_indexes}

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("synchronous", "full"),  # a webhook answered 2xx must survive a power cut
    ("foreign_keys", 1),
    ("busy_timeout", 10_000),
    ("cache_size", -32_000),
)


def open_database(url: str | None) -> pw.Database:
    """Connect to ``url``; raises :class:`SwitchboardError` with a clear reason on failure."""
    if is_postgres(url):
        from playhouse.db_url import parse as parse_url  # its pool/ext modules: PostgreSQL only

        params = parse_url(url)
        name = params.pop("database", None) or "postgres"
        db: pw.Database = pw.PostgresqlDatabase(name, autorollback=True, **params)
    else:
        path = Path(url.removeprefix("sqlite:///")) if url else default_sqlite_path()
        path = path.expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = pw.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=10)
        # SQLite's LIKE folds only ASCII; this folds any letter case, Cyrillic too, and
        # ё as е (PostgreSQL's ILIKE folds case itself). Registered on every connection.
        db.register_function(fold, "sb_casefold", 1, deterministic=True)
    try:
        db.connect(reuse_if_open=True)
    except pw.OperationalError as err:
        raise SwitchboardError(_("Cannot open the database {url}: {reason}").format(
            url=redact_url(url or ""), reason=err)) from err
    return db


def postgres_connector(db: pw.Database) -> Callable[[], Any]:
    """A function opening a fresh psycopg2 connection with ``db``'s parameters (for LISTEN)."""
    import psycopg2

    def connect() -> Any:
        return psycopg2.connect(database=db.database, **db.connect_params)

    return connect


def schema_version(models: Models) -> int:
    row = models.KeyValue.get_or_none(models.KeyValue.key == "schema_version")
    return int(row.value) if row else 0


def _no_progress(label: str, done: int, total: int) -> None:
    pass


def ensure_schema(db: pw.Database, models: Models, progress: Progress | None = None) -> int:
    """Create the schema on first start, migrate an older one; returns the version."""
    with db.atomic():
        if not db.table_exists(models.KeyValue._meta.table_name):
            db.create_tables(models.all(), safe=True)
            models.KeyValue.insert(key="schema_version", value="1").execute()
        current = schema_version(models)
        if current > SCHEMA_VERSION:
            raise SwitchboardError(_(
                "The database has schema version {found}, newer than this Switchboard "
                "understands ({known}). Upgrade Switchboard."
            ).format(found=current, known=SCHEMA_VERSION))
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](db, models, progress or _no_progress)
            kv = models.KeyValue  # an upsert both backends accept (replace() is SQLite-only)
            kv.insert(key="schema_version", value=str(version)).on_conflict(
                conflict_target=[kv.key], update={kv.value: str(version)}).execute()
        return SCHEMA_VERSION
