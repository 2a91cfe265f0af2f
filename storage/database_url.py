"""What a database URL means before anything connects: its kind, how it is shown, where
the default SQLite file lives, and which database drivers the ORM should load for it.

No ORM here, so the configuration can name and show a database without importing
peewee, and the console can import peewee once it knows which database it opens.

* No URL, a plain path or ``sqlite:///path``: SQLite, one file.
* ``postgresql://...`` (or ``postgres://``): PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["SERVER_DRIVERS", "default_sqlite_path", "import_orm_for", "is_postgres", "redact_url"]

# What peewee tries to import at its own import, whatever the database: the PostgreSQL
# and MySQL drivers (psycopg2 alone is ~20 ms and pulls in ssl and logging).
SERVER_DRIVERS = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("switchboard", appauthor=False)) / "switchboard.db"


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in ("postgres", "postgresql")


def redact_url(url: str) -> str:
    """The URL with any password replaced, fit for logs and error messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def import_orm_for(url: str | None) -> None:
    """Import peewee for a process that opens only ``url``: for SQLite, without the
    server drivers peewee would otherwise import (a console's launch does not wait for
    a PostgreSQL driver it never uses). Does nothing for PostgreSQL, or once peewee is
    imported. In that process peewee then cannot open PostgreSQL or MySQL; the drivers
    themselves stay importable."""
    if "peewee" in sys.modules or is_postgres(url):
        return
    saved = {name: sys.modules.get(name) for name in SERVER_DRIVERS}
    for name in SERVER_DRIVERS:
        if saved[name] is None:
            sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import peewee  # noqa: F401
    finally:
        for name in SERVER_DRIVERS:
            if saved[name] is None:
                sys.modules.pop(name, None)
