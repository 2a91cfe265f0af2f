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

SQLite answers "database is locked" at once (without waiting for its busy timeout)
when a deferred transaction cannot take the write lock that another process holds;
such a commit is retried with a short backoff for up to ``busy_patience`` seconds
before the callers hear the error (and answer the webhook 5xx, so it is redelivered).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import peewee as pw

from storage.inputs import Inbound
from storage.rows import IngestResult
from storage.store import Store

log = logging.getLogger(__name__)

_Pending = tuple[Inbound, "asyncio.Future[IngestResult]"]
R = TypeVar("R")


def is_busy(err: BaseException) -> bool:
    """A lock held by another connection: worth waiting for, not a bad message."""
    text = str(err).lower()
    return isinstance(err, pw.OperationalError) and ("locked" in text or "busy" in text)


class GroupCommitWriter:
    """``await writer.ingest(inbound)`` returns once the message is committed."""

    def __init__(self, store: Store, *, window: float = 0.0, max_batch: int = 500,
                 busy_patience: float = 15.0) -> None:
        self.store = store
        self.busy_patience = busy_patience
        self.window = window
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # how many commits were made (for tests and benchmarks)

    async def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._run(), name="ingest-writer")

    async def stop(self) -> None:
        """Commit everything already handed in, then stop (no caller is left hanging)."""
        task, self._task = self._task, None
        if task is None or self._queue is None:
            return
        self._queue.put_nowait(None)
        await task

    async def ingest(self, inbound: Inbound) -> IngestResult:
        if self._queue is None or self._task is None:
            raise ConnectionAbortedError("the ingest writer is not running")
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((inbound, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                break
            # window 0: one turn of the loop, so requests already parsed join this commit;
            # the ones arriving during the commit form the next batch. A positive window
            # waits that long. (A plain sleep, not wait_for(queue.get()): on 3.11 a
            # timed-out get can lose an item.)
            await asyncio.sleep(self.window)
            batch: list[_Pending] = [first]
            while not queue.empty() and len(batch) < self.max_batch:
                item = queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
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
        """Run ``fn(arg)`` in a thread, waiting out another process's write lock."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_patience
        delay = 0.01
        while True:
            try:
                return await asyncio.to_thread(fn, arg)
            except pw.OperationalError as err:
                if not is_busy(err) or loop.time() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
