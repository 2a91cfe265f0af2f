"""storage.database_url: a URL's meaning without the ORM, and the ORM without the server
drivers on SQLite. Each import check runs in a fresh interpreter: this one has long
imported peewee and psycopg2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from storage.database_url import is_postgres, redact_url

ROOT = Path(__file__).resolve().parents[2]


def fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter at the project root, with empty configuration
    and data directories; it prints one JSON object."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/config",
               "XDG_DATA_HOME": f"{home}/data"}
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                             check=True, capture_output=True, text=True, timeout=120,
                             env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_kinds_and_shown_urls() -> None:
    assert is_postgres("postgresql://u:p@h/db") and is_postgres("postgres://h/db")
    assert not is_postgres(None) and not is_postgres("/tmp/x.db")
    assert not is_postgres("sqlite:///tmp/x.db")
    assert redact_url("postgresql://анна:секрет@host/db") == "postgresql://анна:***@host/db"
    assert redact_url("postgresql://anna@host/db") == "postgresql://anna@host/db"
    assert redact_url("/tmp/x.db") == "/tmp/x.db"


def test_the_cli_and_its_config_load_without_the_orm() -> None:
    seen = fresh("""
        import json, sys
        import console.cli
        from console.config import load_config
        load_config(None)
        print(json.dumps({m: m in sys.modules for m in ("peewee", "psycopg2", "pydantic")}))
    """)
    assert seen == {"peewee": False, "psycopg2": False, "pydantic": True}


def test_a_sqlite_console_opens_its_store_without_the_postgresql_driver(tmp_path: Path) -> None:
    """``switchboard --db FILE`` up to the screen (``launch_console`` replaced): the
    config is loaded, the store opened and read through peewee, and psycopg2 was never
    loaded; it stays importable."""
    seen = fresh(f"""
        import json, sys
        import console.cli as cli

        def launch(store, config, remember=None):
            tasks = store.count_tasks()
            loaded = "psycopg2" in sys.modules
            import peewee
            import psycopg2  # the package itself was only hidden from peewee's import
            print(json.dumps({{"tasks": tasks, "psycopg2_loaded": loaded,
                               "peewee_pg": peewee.psycopg2 is not None}}))
            return 0

        cli.launch_console = launch
        sys.exit(cli.main(["--db", {str(tmp_path / 'desk.db')!r}]))
    """)
    assert seen == {"tasks": 0, "psycopg2_loaded": False, "peewee_pg": False}


def test_postgresql_keeps_its_driver() -> None:
    seen = fresh("""
        import json, sys
        from storage.database_url import import_orm_for
        import_orm_for("postgresql://anna@localhost/desk")
        import peewee
        print(json.dumps({"peewee_pg": peewee.psycopg2 is not None,
                          "psycopg2_loaded": "psycopg2" in sys.modules}))
    """)
    assert seen == {"peewee_pg": True, "psycopg2_loaded": True}


def test_a_second_call_changes_nothing() -> None:
    seen = fresh("""
        import json
        import peewee
        from storage.database_url import import_orm_for
        import_orm_for("/tmp/x.db")  # peewee is already imported, with its drivers
        print(json.dumps({"peewee_pg": peewee.psycopg2 is not None}))
    """)
    assert seen == {"peewee_pg": True}
