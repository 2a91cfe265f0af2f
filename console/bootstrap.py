"""From a validated config to an open store that matches it.

The config file is the source of truth for who the operator is and which channels
exist: every start makes the database agree (``ensure_operator``/``ensure_channel``
are idempotent), so editing the file and restarting is all a change takes. Channels
that were removed from the file stay in the database: their tasks and history must
remain readable.
"""

from __future__ import annotations

from connectors.registry import policies
from console.config import Config
from storage.database import Progress
from storage.rows import OperatorRow
from storage.store import Store


def open_store(config: Config, db_override: str | None = None,
               progress: Progress | None = None) -> Store:
    """Open (create, migrate) the configured database and ensure its operator and channels.

    Raises :class:`storage.errors.SwitchboardError` with a user-facing message (an
    unreachable database, a channel that changed kind while it has tasks); the store
    is closed again in that case.
    """
    store = Store.open(db_override or config.database, progress=progress,
                       policies=policies())
    try:
        store.ensure_operator(config.operator.name, config.operator.role)
        for channel in config.channels:
            store.ensure_channel(channel.kind, channel.name, dict(channel.settings))
    except BaseException:
        store.close()
        raise
    return store


def current_operator(store: Store, config: Config) -> OperatorRow:
    """The operator this console acts as (created if the database does not know them yet)."""
    row = store.operator_by_name(config.operator.name)
    if row is None or row.role != config.operator.role:
        row = store.ensure_operator(config.operator.name, config.operator.role)
    return row
