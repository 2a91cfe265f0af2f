"""The outbox worker: delivers queued outbound messages through their connectors.

The messages table is the outbox (storage/replies.py): a reply is committed as
``queued`` and an ``outbox.queued`` event says so. The worker sleeps until such an
event arrives (set thread-safely with ``loop.call_soon_threadsafe``) or until the
next retry falls due (``store.next_outbox_due()``) — it never polls on a short timer.

Order within a task: ``claim_outbox`` hands out only the oldest undelivered message
of each task, so messages of one task go one after another, while different tasks
are sent concurrently (up to ``concurrency`` in flight).

Errors: :class:`TransientSendError`, connection errors, timeouts → back to ``queued``
after an exponential backoff with jitter, or after the channel's ``retry_after`` when
it gave one; :class:`PermanentSendError` → ``failed`` with the channel's own reason
(the operator sees it and may retry by hand). At start ``recover_outbox()`` re-queues
what a previous process left in ``sending``.

The worker sees the store through :class:`storage.ports.OutboxStore` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from connectors.backoff import Backoff
from connectors.base import Connector, PermanentSendError, TransientSendError
from storage.events import OUTBOX_QUEUED, Event
from storage.i18n import _
from storage.models import utcnow
from storage.ports import OutboxStore
from storage.rows import OutboxItem

log = logging.getLogger(__name__)

SEND_TIMEOUT = 60.0
# Without a due retry, look again this often anyway (a safety net, not a poll loop).
IDLE_RECHECK = 300.0
# An unexpected exception (a bug, not the channel) is retried this many times, then failed.
MAX_UNEXPECTED_ATTEMPTS = 5


class OutboxWorker:
    def __init__(self, store: OutboxStore, connectors: dict[int, Connector], *,
                 concurrency: int = 16, backoff: Backoff | None = None,
                 send_timeout: float = SEND_TIMEOUT) -> None:
        self.store = store
        self.connectors = connectors
        self.concurrency = concurrency
        self.send_timeout = send_timeout
        self.backoff: Backoff = backoff or Backoff(base=2.0, cap=300.0)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._unsubscribe: Any = None
        self._reclaimed_for: datetime | None = None  # see _sleep_until_due
        # Something was queued: say on queued messages of channels this worker does not
        # serve that their channel is not running (once per message; see _run).
        self._check_unserved = True
        # Set while the worker is idle in _sleep_until_due (nothing claimable left), so a
        # test can wait until it is really blocked waiting; cleared when it wakes.
        self.waiting = asyncio.Event()
        self.sent = 0  # counters for tests and the status screen
        self.retried = 0
        self.failed = 0

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._unsubscribe = self.store.bus.subscribe(self._on_event)
        recovered = await asyncio.to_thread(self.store.recover_outbox)
        if recovered:
            log.info("re-queued %d message(s) left in sending", recovered)
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            self._wake.set()
            done, _pending = await asyncio.wait([task], timeout=5)
            if not done:  # stuck in a store call: cancel it
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._inflight:  # let sends already on the wire finish and be recorded
            await asyncio.wait(list(self._inflight), timeout=min(self.send_timeout, 10.0))

    def _on_event(self, event: Event) -> None:
        """Called from the committing thread (or the PostgreSQL listener)."""
        if event.kind == OUTBOX_QUEUED and self._loop is not None:
            self._check_unserved = True
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        channel_ids = tuple(self.connectors)
        while not self._stopping:
            self._wake.clear()
            if self._check_unserved:
                self._check_unserved = False
                try:
                    await asyncio.to_thread(self.store.mark_unserved, channel_ids)
                except Exception:
                    log.exception("marking messages of channels not running failed")
            room = self.concurrency - len(self._inflight)
            items: list[OutboxItem] = []
            if room > 0 and channel_ids:
                try:
                    items = await asyncio.to_thread(
                        self.store.claim_outbox, room, None, channel_ids)
                except Exception:
                    log.exception("claiming the outbox failed")
                    await wait_event(self._wake, self.backoff.delay(1))
                    continue
            for item in items:
                task = asyncio.create_task(self._deliver(item), name=f"send-{item.message_id}")
                self._inflight.add(task)
                task.add_done_callback(self._done)
            if items and len(items) == room:
                continue  # there may be more due right now
            if not self._stopping:
                await self._sleep_until_due()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # the task's next message may now be claimable

    async def _sleep_until_due(self) -> None:
        timeout = IDLE_RECHECK
        try:
            due = await asyncio.to_thread(self.store.next_outbox_due)
        except Exception:
            log.exception("reading the next due time failed")
            due = None
        if due is not None:
            seconds = (due - utcnow()).total_seconds()
            if seconds > 0:
                timeout = min(timeout, seconds + 0.01)
            elif due != self._reclaimed_for:
                # It fell due between the claim and this read (a retry scheduled a few
                # milliseconds ahead): claim again now, once for this due time.
                self._reclaimed_for = due
                return
            # Else due now but still nothing claimable (held back behind a message in
            # flight, or in a channel this gateway does not serve): wait for an event.
        self.waiting.set()
        try:
            await wait_event(self._wake, timeout)
        finally:
            self.waiting.clear()

    async def _deliver(self, item: OutboxItem) -> None:
        connector = self.connectors.get(item.channel_id)
        try:
            if connector is None:
                raise PermanentSendError(_("No connector runs for this channel."))
            async with asyncio.timeout(self.send_timeout):
                result = await connector.send(item)
        except PermanentSendError as err:
            await self._record(self.store.mark_failed, item.message_id, str(err) or
                               err.__class__.__name__)
            self.failed += 1
        except TransientSendError as err:
            await self._retry(item, str(err), err.retry_after)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            reason = str(err) or (_("timed out") if isinstance(err, TimeoutError)
                                  else err.__class__.__name__)
            await self._retry(item, reason, None)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a connector bug: retry a few times, then show it
            log.exception("sending message %s failed unexpectedly", item.message_id)
            reason = f"{err.__class__.__name__}: {err}"
            if item.attempts >= MAX_UNEXPECTED_ATTEMPTS:
                await self._record(self.store.mark_failed, item.message_id, reason)
                self.failed += 1
            else:
                await self._retry(item, reason, None)
        else:
            await self._record(self.store.mark_sent, item.message_id, result.external_id)
            self.sent += 1

    async def _retry(self, item: OutboxItem, reason: str, retry_after: float | None) -> None:
        delay = self.backoff.delay(max(item.attempts - 1, 0))
        if retry_after is not None:
            delay = max(float(retry_after), 0.0)  # the channel said exactly when
        at = utcnow() + timedelta(seconds=delay)
        await self._record(self.store.schedule_retry, item.message_id, at, reason)
        self.retried += 1

    async def _record(self, fn: Any, *args: Any) -> None:
        """Write a delivery outcome; a store hiccup must not lose the worker."""
        for attempt in range(5):
            try:
                await asyncio.to_thread(fn, *args)
                return
            except Exception:
                log.exception("recording a delivery outcome failed (attempt %d)", attempt + 1)
                await asyncio.sleep(0.2 * 2 ** attempt)
        # Still in 'sending': the next start's recover_outbox() re-queues it.



async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Wait until ``event`` is set or ``timeout`` passes.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that lands
    while the event is being set, which left a stopping worker asleep for minutes.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
