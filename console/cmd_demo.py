"""``switchboard demo``: a fresh database full of sample conversations, then the console.

The demo never touches the real database: by default it uses ``demo.db`` in the user
data directory, recreated on every run. ``--db`` may point elsewhere, but a database
that holds data and was not made by the demo is refused rather than wiped — the
command must never lose anyone's real conversations.
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from console.bootstrap import open_store
from console.demo_data import DEMO_MARK, seed_demo
from storage.database import is_postgres, redact_url
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.store import Store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help=_("open the console on a fresh demo database"),
        description=_("Create a fresh demo database (sample operators, contacts in several "
                      "channels, tasks in every status, quick replies in English and Russian) "
                      "and open the console on it. The default demo database is demo.db in the "
                      "user data directory; it is recreated on every run."))
    parser.add_argument("--seed-only", action="store_true",
                        help=_("create the demo database and exit without opening the console"))
    parser.set_defaults(func=run_demo)


def default_demo_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("switchboard", appauthor=False)) / "demo.db"


def run_demo(args: argparse.Namespace) -> int:
    from console.cli import launch_console, load

    config = load(args)
    url = args.db or str(default_demo_path())
    reset_demo_database(url)
    store = open_store(replace(config, database=url))
    try:
        seed_demo(store, operator_name=config.operator.name)
        print(_("Demo database ready: {db}").format(db=redact_url(url)))
        if args.seed_only:
            return 0
        return launch_console(store, replace(config, database=url))
    finally:
        store.close()


def reset_demo_database(url: str) -> None:
    """Make ``url`` an empty database; refuse when it holds data the demo did not make."""
    if is_postgres(url):
        _reset_postgres(url)
        return
    path = Path(url.removeprefix("sqlite:///")).expanduser()
    if path.exists():
        if not _sqlite_is_demo_or_empty(path):
            raise SwitchboardError(_(
                "{path} holds data that the demo did not create; choose another file with "
                "--db (the demo recreates its database).").format(path=path))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _sqlite_is_demo_or_empty(path: Path) -> bool:
    """Read-only look: no tables at all, or the demo's mark in the key-value table."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return path.stat().st_size == 0
    try:
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return True
        if "key_value" not in tables:
            return False
        return conn.execute("SELECT 1 FROM key_value WHERE key = ?", (DEMO_MARK,)).fetchone() \
            is not None
    except sqlite3.Error:  # not a database at all: do not delete it
        return False
    finally:
        conn.close()


def _reset_postgres(url: str) -> None:
    store = Store.open(url)
    try:
        empty = not store.m.Contact.select().exists() and not store.m.Task.select().exists()
        if not empty and store.get_state(DEMO_MARK) is None:
            raise SwitchboardError(_(
                "The database {db} holds data that the demo did not create; give the demo an "
                "empty database.").format(db=redact_url(url)))
        store.db.drop_tables(store.m.all(), cascade=True)
    finally:
        store.close()
