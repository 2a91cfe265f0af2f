"""The group-commit ingest writer: many webhook requests, one transaction.

Committing one message per request costs a transaction and a thread hop each; the
performance anchors (docs/anchors.md) show group commit recovering most of that while
still answering 2xx only after commit. The writer's own thread takes every message
that arrived while it was busy, stores them with one ``store.ingest_many`` call, and
only then resolves each caller's future.

The batching (issue 20): nothing waits on a timer by default (``window=0``). Messages
handed in during one turn of the event loop (requests parsed together) go to the
writer's thread together; the thread commits what it has and, the moment that commit
is done, takes everything that arrived meanwhile as the next batch. Batches therefore
grow with the load by themselves, and a quiet moment costs no added latency (a fixed
3 ms window made every webhook wait 3 ms and, at 50/s, cost a commit per message
anyway). A positive ``window`` restores a timed wait (tests use it to force batches).

The writer's own thread runs the loop "take what is queued, commit it, hand the
results back" without waiting for the event loop in between: the callers' answers are
sent back with one ``call_soon_threadsafe`` a batch while the next batch is already
being written. (When the event loop took each batch, the database sat idle while the
loop resumed a batch's callers and answered them; bench/PROFILE.md §10.) One thread
also means one database connection for every commit, so its prepared statements and
its page cache stay warm.

``ingest_many`` is all-or-nothing, so one bad message (a rule violation, a broken
channel id) would fail its neighbours: on any error the batch is retried one message
at a time, and only the bad one gets the exception.

SQLite answers "database is locked" when another process holds the write lock past
the busy timeout; such a commit is retried with a short backoff for up to
``busy_patience`` seconds before the callers hear the error (and answer the webhook
5xx, so it is redelivered).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import peewee as pw

from storage.inputs import Inbound
from storage.ports import IngestStore
from storage.rows import IngestResult

log = logging.getLogger(__name__)

Pending = tuple[Inbound, "asyncio.Future[IngestResult]"]  # a message and its caller
Outcome = IngestResult | Exception  # what one message's caller hears
R = TypeVar("R")


def is_busy(err: BaseException) -> bool:
    """A lock held by another connection: worth waiting for, not a bad message."""
    text = str(err).lower()
    return isinstance(err, pw.OperationalError) and ("locked" in text or "busy" in text)


class TurnHandOff:
    """The messages handed in during one turn of the event loop (requests parsed
    together), passed on together right after it: ``hand_over(items)`` is called once
    a turn. Both writers take their batches' raw material from it."""

    def __init__(self, hand_over: Callable[[list[Pending]], None]) -> None:
        self._hand_over = hand_over
        self._arrived: list[Pending] = []

    def add(self, loop: asyncio.AbstractEventLoop,
            inbound: Inbound) -> asyncio.Future[IngestResult]:
        """The future ``inbound``'s caller awaits."""
        future: asyncio.Future[IngestResult] = loop.create_future()
        if not self._arrived:  # the first of this turn: hand the turn's messages over after it
            loop.call_soon(self.flush)
        self._arrived.append((inbound, future))
        return future

    def flush(self) -> None:
        """Hand over what arrived (now, not after the turn: a writer stopping)."""
        arrived, self._arrived = self._arrived, []
        if arrived:
            self._hand_over(arrived)


class GroupCommitWriter:
    """``await writer.ingest(inbound)`` returns once the message is committed."""

    def __init__(self, store: IngestStore, *, window: float = 0.0, max_batch: int = 500,
                 busy_patience: float = 15.0) -> None:
        self.store = store
        self.busy_patience = busy_patience
        self.window = window
        self.max_batch = max_batch
        self._turn = TurnHandOff(self._hand_over)  # event loop side
        self._queue: list[Pending] = []  # handed to the thread, not yet in a batch
        self._cond = threading.Condition()  # guards _queue and _stopping
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None  # the thread's run, while it runs
        self._thread: ThreadPoolExecutor | None = None
        self.batches = 0  # how many commits were made (for tests and benchmarks)

    async def start(self) -> None:
        if self._done is None:
            self._stopping = False
            self._loop = loop = asyncio.get_running_loop()
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
            self._done = loop.run_in_executor(self._thread, self._run, loop)

    async def stop(self) -> None:
        """Commit everything already handed in, then stop (no caller is left hanging)."""
        done, self._done = self._done, None
        if done is None:
            return
        self._turn.flush()
        with self._cond:
            self._stopping = True
            self._cond.notify()
        try:
            await done
        finally:
            thread, self._thread = self._thread, None
            if thread is not None:
                thread.shutdown(wait=False)

    async def ingest(self, inbound: Inbound) -> IngestResult:
        if self._done is None or self._stopping or self._loop is None:
            raise ConnectionAbortedError("the ingest writer is not running")
        return await self._turn.add(self._loop, inbound)

    def _hand_over(self, arrived: list[Pending]) -> None:
        """Event loop: give this turn's messages to the writer's thread."""
        with self._cond:
            self._queue.extend(arrived)
            self._cond.notify()

    # ---- the writer's thread ----

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                outcomes = self._commit(batch)
                loop.call_soon_threadsafe(_deliver, outcomes)
        except BaseException as err:  # a bug here must not leave callers waiting forever
            with self._cond:
                left, self._queue = self._queue, []
            loop.call_soon_threadsafe(_deliver, [(f, err) for _i, f in left])
            raise

    def _next_batch(self) -> list[Pending] | None:
        """Wait for messages (None once stopping with nothing left), then take a batch."""
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            if self.window > 0:  # a timed window: let more join (stop cuts it short)
                until = time.monotonic() + self.window
                while not self._stopping and (left := until - time.monotonic()) > 0:
                    self._cond.wait(left)
            batch = self._queue[:self.max_batch]
            del self._queue[:self.max_batch]
        return batch

    def _commit(self, batch: list[Pending]) -> list[tuple[asyncio.Future[IngestResult], Outcome]]:
        """Store ``batch``: each caller's future with its result, or its exception."""
        live = still_waiting(batch)
        if not live:
            return []
        outcomes, commits = commit_batch(self.store, [i for i, _f in live], self.busy_patience)
        self.batches += commits
        return [(f, outcome) for (_i, f), outcome in zip(live, outcomes, strict=True)]


def still_waiting(pending: list[Pending]) -> list[Pending]:
    """The messages whose callers still wait (one may have gone: a client hung up)."""
    return [(i, f) for i, f in pending if not f.done()]


def commit_batch(store: IngestStore, inbounds: list[Inbound],
                 busy_patience: float) -> tuple[list[Outcome], int]:
    """Store ``inbounds`` in one transaction (``ingest_many``); if that fails, one at a
    time, so only a bad message gets its exception. Returns each message's result or
    exception, in order, and how many commits were made. Another process's write lock
    is waited out for up to ``busy_patience`` seconds (see the module doc)."""
    try:
        return list(_patiently(store.ingest_many, inbounds, busy_patience)), 1
    except Exception:
        log.info("a batch of %d failed; storing one by one", len(inbounds), exc_info=True)
    outcomes: list[Outcome] = []
    commits = 0
    for inbound in inbounds:
        try:
            outcomes.append(_patiently(store.ingest, inbound, busy_patience))
        except Exception as err:  # this message alone is bad: only its caller hears it
            outcomes.append(err)
            continue
        commits += 1
    return outcomes, commits


def _patiently(fn: Callable[[Any], R], arg: Any, busy_patience: float) -> R:
    """``fn(arg)``, waiting out another process's write lock for up to busy_patience."""
    deadline = time.monotonic() + busy_patience
    delay = 0.01
    while True:
        try:
            return fn(arg)
        except pw.OperationalError as err:
            if not is_busy(err) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)  # a writer's own thread or process, never the event loop
        delay = min(delay * 2, 0.25)


def _deliver(outcomes: list[tuple[asyncio.Future[IngestResult], Outcome]]) -> None:
    """Event loop: answer each caller still waiting."""
    for future, outcome in outcomes:
        resolve(future, outcome)


def resolve(future: asyncio.Future[IngestResult], outcome: Outcome) -> None:
    """Answer a caller still waiting: its result, or its own exception."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
