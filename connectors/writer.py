"""The group-commit ingest writer: many webhook requests, one transaction.

Committing one message per request costs a transaction and a thread hop each; the
performance anchors (docs/anchors.md) show group commit recovering most of that while
still answering 2xx only after commit. One asyncio task takes every message that
arrives while it is busy, stores them with one ``store.ingest_many`` call in a worker
thread, and only then resolves each caller's future.

The batching window (issue 20): by default (``window=0``) nothing waits on a timer.
A message that finds the writer idle is committed at once (after one turn of the
event loop, so requests already parsed in the same turn join it); the messages that
arrive while that commit runs form the next batch. Batches therefore grow with the
load by themselves, and a quiet moment costs no added latency (a fixed 3 ms window
made every webhook wait 3 ms and, at 50/s, cost a commit per message anyway). A
positive ``window`` restores the timed wait (tests use it to force batches).

``ingest_many`` is all-or-nothing, so one bad message (a rule violation, a broken
channel id) would fail its neighbours: on any error the batch is retried one message
at a time, and only the bad one gets the exception.

The hand-off (issue 20, bench/PROFILE.md): a message costs the event loop one list
append and, only when the writer is idle, one wake-up; a batch costs one hop to the
writer's OWN thread (one worker, started with the writer) and one back. One thread
means one database connection for every commit, so its prepared statements and its
page cache stay warm (``asyncio.to_thread`` spread commits over the shared pool's
threads, each with a connection of its own).

SQLite answers "database is locked" at once (without waiting for its busy timeout)
when a deferred transaction cannot take the write lock that another process holds;
such a commit is retried with a short backoff for up to ``busy_patience`` seconds
before the callers hear the error (and answer the webhook 5xx, so it is redelivered).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import peewee as pw

from storage.inputs import Inbound
from storage.ports import IngestStore
from storage.rows import IngestResult

log = logging.getLogger(__name__)

_Pending = tuple[Inbound, "asyncio.Future[IngestResult]"]
R = TypeVar("R")


def is_busy(err: BaseException) -> bool:
    """A lock held by another connection: worth waiting for, not a bad message."""
    text = str(err).lower()
    return isinstance(err, pw.OperationalError) and ("locked" in text or "busy" in text)


class GroupCommitWriter:
    """``await writer.ingest(inbound)`` returns once the message is committed."""

    def __init__(self, store: IngestStore, *, window: float = 0.0, max_batch: int = 500,
                 busy_patience: float = 15.0) -> None:
        self.store = store
        self.busy_patience = busy_patience
        self.window = window
        self.max_batch = max_batch
        self._pending: list[_Pending] = []  # handed in, not yet taken into a batch
        self._wake: asyncio.Future[None] | None = None  # set while the writer is idle
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self.batches = 0  # how many commits were made (for tests and benchmarks)

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
            self._task = asyncio.create_task(self._run(), name="ingest-writer")

    async def stop(self) -> None:
        """Commit everything already handed in, then stop (no caller is left hanging)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wakeup()
        try:
            await task
        finally:
            thread, self._thread = self._thread, None
            if thread is not None:
                thread.shutdown(wait=False)

    async def ingest(self, inbound: Inbound) -> IngestResult:
        if self._task is None or self._stopping:
            raise ConnectionAbortedError("the ingest writer is not running")
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._pending.append((inbound, future))
        self._wakeup()
        return await future

    def _wakeup(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                if self._stopping:
                    return
                self._wake = loop.create_future()
                try:
                    await self._wake
                finally:
                    self._wake = None
                continue
            # window 0: one turn of the loop, so requests already parsed join this commit;
            # the ones arriving during the commit form the next batch. A positive window
            # waits that long.
            await asyncio.sleep(self.window)
            batch = self._pending[:self.max_batch]
            del self._pending[:self.max_batch]
            live = [(i, f) for i, f in batch if not f.done()]  # callers may have gone
            if live:
                await self._commit(live)

    async def _commit(self, batch: list[_Pending]) -> None:
        inbounds = [inbound for inbound, _f in batch]
        try:
            results = await self._patiently(self.store.ingest_many, inbounds)
        except Exception:
            log.info("a batch of %d failed; storing one by one", len(batch), exc_info=True)
            await self._one_by_one(batch)
            return
        self.batches += 1
        for (_inbound, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        for inbound, future in batch:
            try:
                result = await self._patiently(self.store.ingest, inbound)
            except Exception as err:  # this message alone is bad: only its caller hears it
                if not future.done():
                    future.set_exception(err)
                continue
            self.batches += 1
            if not future.done():
                future.set_result(result)

    async def _patiently(self, fn: Callable[[Any], R], arg: Any) -> R:
        """Run ``fn(arg)`` in the writer's thread, waiting out another process's write lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_patience
        delay = 0.01
        while True:
            try:
                return await loop.run_in_executor(self._thread, fn, arg)
            except pw.OperationalError as err:
                if not is_busy(err) or loop.time() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
