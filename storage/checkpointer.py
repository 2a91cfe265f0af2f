"""WAL checkpoints beside a busy SQLite writer instead of inside its commits.

SQLite copies its write-ahead log back into the database file (a *checkpoint*) inside
the commit that takes the log past 1,000 pages. On the 1M-message database that commit
took 15–700 ms instead of a few, and every webhook queued behind it waited: a stall
that set the p99 at half the peak rate (``bench/PROFILE.md`` §11).

A connection that commits all day (the ingest helper process of ``switchboard serve``)
turns that off for itself with :func:`checkpoint_beside` and reports each commit with
:meth:`BackgroundCheckpointer.committed`. The work is then split in two:

- **The bulk, in a thread.** Once about as much was committed as SQLite would have let
  the log grow (:data:`MESSAGES_PER_PASS`), a thread runs a ``PASSIVE`` checkpoint on a
  connection of its own. It never waits for, or blocks, the writer or a reader, and
  ``sqlite3`` releases the interpreter lock while SQLite copies, so the copy runs on
  another core. Between passes the thread sleeps on an event: nothing polls.
- **The tail, by the writer.** The log can only start over from its beginning when a
  checkpoint has copied *all* of it, and the writer keeps appending while the thread
  copies: left alone, a steadily written log never caught up and grew without bound
  (4,500 pages in the test where SQLite keeps ~1,050). So after the thread's pass, the
  writer's next report copies what came since (the little written during the pass)
  on its own connection, between its transactions, and its next write starts the log
  over.

A pass after every batch, instead of every few hundred messages, cost the helper ~7 %
of its peak rate (the same hot pages copied into the file again and again). Other
connections to the file keep SQLite's default, so a log that only they write to is
still checkpointed by their own commits.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

import peewee as pw

log = logging.getLogger(__name__)

__all__ = ["MESSAGES_PER_PASS", "BackgroundCheckpointer", "checkpoint_beside"]

# Messages committed between two passes: ~1,000 log pages for a typical message (about
# 4 pages each with its indexes and full-text entries), SQLite's own checkpoint point.
MESSAGES_PER_PASS = 250
PASSIVE = "PRAGMA wal_checkpoint(PASSIVE)"


class BackgroundCheckpointer:
    """Checkpoints of the WAL of ``path`` for one writer: the bulk in a thread once
    ``every`` messages were committed, the tail by the writer through ``finish`` (a
    PASSIVE checkpoint on the writer's own connection), and a last pass at close."""

    def __init__(self, path: str, finish: Callable[[], object] | None = None,
                 every: int = MESSAGES_PER_PASS) -> None:
        self.path = path
        self.every = max(1, every)
        self.passes = 0  # the thread's checkpoints (read by tests)
        self._finish = finish
        self._since = 0  # messages committed since the last pass was asked for
        self._wanted = threading.Event()
        self._copied = threading.Event()  # a pass ended: the writer may finish the tail
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> BackgroundCheckpointer:
        self._thread.start()
        return self

    def committed(self, messages: int) -> None:
        """The writer's thread, after a commit of ``messages``: finish the tail of a pass
        that ended, and ask for the next pass once ``every`` messages have piled up."""
        if self._copied.is_set():
            self._copied.clear()
            if self._finish is not None:
                try:
                    self._finish()
                except (pw.DatabaseError, sqlite3.Error):  # busy: the next pass tries again
                    log.debug("finishing a WAL checkpoint failed", exc_info=True)
        self._since += messages
        if self._since >= self.every:
            self._since = 0
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
                    conn.execute(PASSIVE).fetchone()
                    self.passes += 1
                    self._copied.set()
                except sqlite3.Error:  # a busy or closing file: the next pass tries again
                    log.debug("a background WAL checkpoint failed", exc_info=True)
                if last:
                    return
        finally:
            conn.close()


def checkpoint_beside(db: pw.Database, every: int = MESSAGES_PER_PASS
                      ) -> BackgroundCheckpointer | None:
    """Stop this thread's connection to ``db`` checkpointing inside its commits, and
    start the thread that does the bulk instead; None (nothing changed) unless ``db`` is
    a SQLite file. Call :meth:`BackgroundCheckpointer.committed` from this same thread
    after each commit, and :meth:`BackgroundCheckpointer.close` when the writer stops."""
    if not isinstance(db, pw.SqliteDatabase) or db.database in ("", ":memory:"):
        return None
    db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    return BackgroundCheckpointer(db.database, lambda: db.execute_sql(PASSIVE).fetchone(),
                                  every).start()
