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
from storage.database import open_database
from storage.database_url import is_postgres, redact_url
from storage.errors import SwitchboardError
from storage.i18n import _


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
    """Read-only look: no tables, the demo's mark, or Switchboard's schema with nothing in it."""
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
        if conn.execute("SELECT 1 FROM key_value WHERE key = ?", (DEMO_MARK,)).fetchone():
            return True
        content = ("contact", "task", "message", "quick_reply")  # a blank Switchboard file
        return all(t in tables for t in content) and all(
            conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is None for t in content)
    except sqlite3.Error:  # not a database at all: do not delete it
        return False
    finally:
        conn.close()


def _reset_postgres(url: str) -> None:
    """Drop every table of a demo (or blank Switchboard) database, search tables included.

    A database holding anything else — conversations, quick replies, another
    application's tables — is refused: it may be a team's real desk."""
    db = open_database(url)
    try:
        tables = db.get_tables()
        if not tables:
            return
        if not (_pg_has_mark(db, tables) or _pg_is_blank_switchboard(db, tables)):
            raise SwitchboardError(_(
                "The database {db} holds data that the demo did not create; give the demo an "
                "empty database.").format(db=redact_url(url)))
        with db.atomic():
            for table in tables:
                db.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        db.close()


def _pg_has_mark(db: Any, tables: list[str]) -> bool:
    return "key_value" in tables and db.execute_sql(
        "SELECT 1 FROM key_value WHERE key = %s", (DEMO_MARK,)).fetchone() is not None


def _pg_is_blank_switchboard(db: Any, tables: list[str]) -> bool:
    """Switchboard's schema with no conversations and no quick replies in it."""
    content = ("contact", "task", "message", "quick_reply")
    if "key_value" not in tables or not all(t in tables for t in content):
        return False
    return all(db.execute_sql(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is None for t in content)
