"""From a validated config to an open store that matches it.

The config file is the source of truth for who the operator is and which channels
exist: every start makes the database agree (``ensure_operator``/``ensure_channel``
are idempotent), so editing the file and restarting is all a change takes. Channels
that were removed from the file stay in the database: their tasks and history must
remain readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.registry import policies
from connectors.serve_marker import ServeMarker, serve_running
from console.config import Config, database_url
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
    store = Store.open(database_url(config, db_override), progress=progress,
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


def sqlite_file(store: Store) -> str | None:
    """The SQLite database file of ``store`` (None on PostgreSQL or in memory)."""
    if store.postgres:
        return None
    name = str(store.db.database or "")
    return None if not name or name == ":memory:" or name.startswith("file::memory:") else name


def runs_own_gateway(store: Store) -> bool:
    """Whether a console on ``store`` starts the connectors in its own process.

    Not on PostgreSQL: a team there runs ``switchboard serve``. Not on a SQLite file
    for which a ``serve`` is already running (:mod:`connectors.serve_marker`): that
    process runs the channels, and the file's cross-process wake-up brings its changes
    to this console live. Otherwise (one person, one machine) yes.
    """
    path = sqlite_file(store)
    if store.postgres:
        return False
    return path is None or not serve_running(path)


def gateway_factory(store: Store, config: Config) -> Callable[[], Any] | None:
    """What builds this console's gateway (:func:`console.gateway_wiring.make_gateway`),
    or None when it runs none (:func:`runs_own_gateway`). The factory imports the
    connectors (aiohttp) only when called: the console calls it after its first frame."""
    if not runs_own_gateway(store):  # not on PostgreSQL, nor beside a running serve
        return None

    def build() -> Any:
        from console.gateway_wiring import make_gateway

        return make_gateway(store, config)

    return build


def serve_marker(store: Store) -> ServeMarker | None:
    """The marker a ``serve`` holds while it runs on ``store``'s SQLite file."""
    path = sqlite_file(store)
    return ServeMarker(path) if path is not None else None
