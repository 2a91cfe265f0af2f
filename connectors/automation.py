"""The automation runner: applies the rules to store events and to due timers.

Like the outbox worker it never polls: it sleeps until a store event arrives (set
thread-safely from the bus with ``loop.call_soon_threadsafe``) or until the next
timer falls due. That due time is computed from stored task times each time the
worker wakes (``Automation.next_due``), so the database — not this process's memory
— is the source of truth: a restart loses nothing, and every process computes the
same timers. Each firing happens once across processes (see ``storage/rules/engine``).

Events that arrived while no runner ran do not trigger event rules afterwards
(their timers still fire: those are derived from stored times).

``clock`` is injectable; ``wake()`` makes the worker look again at once (tests
advance a fake clock and call it).

The worker's own calls are :class:`storage.ports.AutomationStore`; the rules engine it
drives is a storage component and gets the same store whole.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from connectors.outbox import wait_event
from storage import events as ev
from storage.events import Event
from storage.models import utcnow
from storage.ports import AutomationStore
from storage.rules.engine import Automation
from storage.rules.loader import RuleSet, configured_rules, load_rules, rules_path
from storage.rules.log import FiringRow

log = logging.getLogger(__name__)

# Without a due timer, look again this often anyway (a safety net, not a poll loop:
# a schedule or status timer is always found from the stored times when it exists).
IDLE_RECHECK = 300.0
ERROR_BACKOFF = 5.0
WAKING = (ev.MESSAGE_STORED, ev.TASK_CREATED, ev.TASK_UPDATED, ev.TASK_MERGED)


class AutomationWorker:
    def __init__(self, store: AutomationStore, rules: RuleSet,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.rules = rules
        self.clock = clock
        self.automation: Automation | None = None
        self.fired: list[FiringRow] = []  # what this process fired (tests, status screen)
        self._pending: collections.deque[Event] = collections.deque()
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unsubscribe: Callable[[], None] | None = None
        self.next_due: datetime | None = None
        self.rounds = 0  # completed rounds (tests wait on it)

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._stopping = False
        self.automation = await asyncio.to_thread(Automation, self.store, self.rules, self.clock)
        self._unsubscribe = self.store.bus.subscribe(self._on_event)
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name="automation")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _pending = await asyncio.wait([task], timeout=10)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def wake(self) -> None:
        """Look at the timers again now (thread-safe)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._wake.set)

    def _on_event(self, event: Event) -> None:
        """Called from the committing thread (or the PostgreSQL listener)."""
        if event.kind in WAKING:
            self._pending.append(event)
            self.wake()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate()`` holds after one of the worker's rounds (tests)."""
        async with asyncio.timeout(timeout):
            async with self._progress:
                await self._progress.wait_for(predicate)
        return True

    async def _run(self) -> None:
        assert self.automation is not None
        automation = self.automation
        while True:
            self._wake.clear()
            last_round = self._stopping  # stopping: one more round for what is pending
            delay = IDLE_RECHECK
            try:
                while self._pending:
                    event = self._pending.popleft()
                    self.fired += await asyncio.to_thread(automation.handle_event, event)
                fired, self.next_due = await asyncio.to_thread(automation.tick)
                self.fired += fired
                self.next_due = await asyncio.to_thread(self._snoozes, self.next_due)
                if self.next_due is not None:
                    seconds = (self.next_due - self.clock()).total_seconds()
                    delay = min(delay, max(seconds, 0.0) + 0.01)
            except Exception:
                log.exception("the automation round failed")
                delay = ERROR_BACKOFF
            self.rounds += 1
            async with self._progress:
                self._progress.notify_all()
            if last_round:
                return
            if not self._stopping and not self._pending:
                await wait_event(self._wake, delay)


    def _snoozes(self, due: datetime | None) -> datetime | None:
        """End the snoozes that ended (``task.updated`` for each, so lists refresh then);
        the next snooze end joins the due times (W1, issue 18)."""
        self.store.end_snoozes(self.clock())
        end = self.store.next_snooze_end()
        return end if end is not None and (due is None or end < due) else due


def worker_for(store: AutomationStore, configured: str | Path | None,
               base: Path | None = None) -> AutomationWorker:
    """The runner of the desk's rules (:func:`storage.rules.loader.configured_rules`);
    with none it still runs, so the store's own timers (a snooze ending) fire on time."""
    return AutomationWorker(store, configured_rules(configured, base))


def worker_from_environment(store: AutomationStore) -> AutomationWorker | None:
    """The runner for ``$SWITCHBOARD_RULES`` (a broken file raises ``RulesError``, which
    names its line and column); None when it is not set: automation is opt-in until the
    configuration file gets a ``rules:`` entry."""
    path = rules_path(None)
    return AutomationWorker(store, load_rules(path)) if path is not None else None
