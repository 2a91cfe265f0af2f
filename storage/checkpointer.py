"""WAL checkpoints beside a busy SQLite writer instead of inside its commits.

SQLite copies its write-ahead log back into the database file (a *checkpoint*) inside
the commit that takes the log past 1,000 pages. On the 1M-message database that commit
took 15–700 ms instead of a few, and every webhook queued behind it waited: a stall
that set the p99 at half the peak rate (``bench/PROFILE.md`` §11).

A connection that commits all day (the ingest helper process of ``switchboard serve``)
turns that off for itself with :func:`checkpoint_beside` and wakes this thread after
each commit. The thread runs a ``PASSIVE`` checkpoint on a connection of its own: it
copies what no reader still needs and never waits for, or blocks, the writer or a
reader (they go on against the log meanwhile; ``sqlite3`` releases the interpreter
lock while SQLite works, so the copy runs beside the writer on another core).
Nothing polls: between wakes the thread sleeps on an event, and wakes that arrive
while it copies become one more pass.

Other connections to the file keep SQLite's default, so a log that only they write
to is still checkpointed by their own commits.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import peewee as pw

log = logging.getLogger(__name__)

__all__ = ["BackgroundCheckpointer", "checkpoint_beside"]


class BackgroundCheckpointer:
    """A thread running a PASSIVE WAL checkpoint of ``path`` after each :meth:`wake`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.passes = 0  # checkpoints run (read by tests)
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> BackgroundCheckpointer:
        self._thread.start()
        return self

    def wake(self) -> None:
        """A commit was made: copy the log into the database file soon."""
        self._wanted.set()

    def close(self) -> None:
        """Run a last pass for what was committed before, then stop the thread."""
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        except sqlite3.Error as err:  # the writer's next opener checkpoints instead
            log.warning("WAL checkpoints stay in the commits: %s", err)
            return
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                last = self._stopping  # read before the pass: a close() during it wakes us again
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.passes += 1
                except sqlite3.Error:  # a busy or closing file: the next wake tries again
                    log.debug("a background WAL checkpoint failed", exc_info=True)
                if last:
                    return
        finally:
            conn.close()


def checkpoint_beside(db: pw.Database) -> BackgroundCheckpointer | None:
    """Stop this thread's connection to ``db`` checkpointing inside its commits, and
    start the thread that does it instead; None (nothing changed) unless ``db`` is a
    SQLite file. Call :meth:`BackgroundCheckpointer.wake` after each commit and
    :meth:`BackgroundCheckpointer.close` when the writer stops."""
    if not isinstance(db, pw.SqliteDatabase) or db.database in ("", ":memory:"):
        return None
    db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    return BackgroundCheckpointer(db.database).start()
