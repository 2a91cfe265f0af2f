"""Leases: exactly one process runs a named job (a channel's poller) at a time.

A lease is one row (``team_lease``): its name, its holder and when it expires. A
process *holds* the lease while the row names it and has not expired; it renews well
before expiry. When the holder dies, nobody renews, the row expires, and the next
process that tries takes it over: with the defaults a dead holder's channel is
running again elsewhere within ``ttl + retry`` = 8 seconds.

Taking and renewing are one conditional upsert: insert the row, or overwrite it only
if it is ours or has expired. The database decides, so two takers never both win.

No period where two processes both believe they hold it. The database computes
``expires_at`` from its own clock when the statement runs (PostgreSQL:
``clock_timestamp()``; SQLite: the wall clock of the one machine it lives on,
captured before the statement, which only makes the row expire earlier than the
holder's own deadline). The holder measures its deadline on its monotonic clock from
*before* it sent the statement, minus a safety margin: it stops considering itself
the holder strictly before the row can expire. A holder paused longer than the ttl
(a stopped process, a lost network) finds on its next renewal that someone else took
the lease, and says so.

A clean release deletes the row and publishes ``lease.released``, so a waiting
process takes over at once rather than at its next retry.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.events import Event
from storage.team_tables import team_models

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger(__name__)

LEASE_RELEASED = "lease.released"
DEFAULT_TTL = 6.0
_PG_NOW = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"


def channel_lease_name(channel_id: int) -> str:
    return f"channel:{channel_id}"


def default_holder() -> str:
    """This process, recognisably: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    expires_at: int  # database-clock microseconds since the epoch


class Lease:
    """One process's handle on the lease ``name``."""

    def __init__(self, store: Store, name: str, holder: str | None = None,
                 ttl: float = DEFAULT_TTL, margin: float | None = None) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.store = store
        self.name = name
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.margin = margin if margin is not None else ttl / 4
        self._deadline = 0.0  # monotonic; held while now < deadline
        self._table = team_models(store).Lease

    @property
    def held(self) -> bool:
        return time.monotonic() < self._deadline

    def remaining(self) -> float:
        """Seconds this process may still act as the holder (0 when it does not hold it)."""
        return max(0.0, self._deadline - time.monotonic())

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if it is ours.

        True: this process holds it for ``ttl - margin`` seconds from the call. False:
        another process holds it (and if this process held it before, it no longer does).
        """
        started = time.monotonic()
        wall_us = int(time.time() * 1_000_000)
        ttl_us = int(self.ttl * 1_000_000)
        db = self.store.db
        p = db.param
        table = self._table._meta.table_name
        now = _PG_NOW if self.store.postgres else p
        sql = (
            f"INSERT INTO {table} (name, holder, expires_at, acquired_at) "
            f"VALUES ({p}, {p}, {now} + {p}, {now}) "
            f"ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            f"expires_at = excluded.expires_at, acquired_at = CASE WHEN "
            f"{table}.holder = excluded.holder THEN {table}.acquired_at "
            f"ELSE excluded.acquired_at END "
            f"WHERE {table}.holder = excluded.holder OR {table}.expires_at < excluded.acquired_at")
        params: tuple[object, ...] = ((self.name, self.holder, ttl_us) if self.store.postgres
                                      else (self.name, self.holder, wall_us, ttl_us, wall_us))
        with self.store.transaction():
            won = db.execute_sql(sql, params).rowcount == 1
        self._deadline = started + self.ttl - self.margin if won else 0.0
        return won

    def release(self) -> None:
        """Give the lease up now (only if it is still ours) and tell the waiting processes."""
        self._deadline = 0.0
        L = self._table
        with self.store.transaction() as tx:
            gone = L.delete().where((L.name == self.name) & (L.holder == self.holder)).execute()
            if gone:
                tx.emit(LEASE_RELEASED, name=self.name)


def lease_info(store: Store, name: str) -> LeaseInfo | None:
    """The lease's row as the database has it (expired or not)."""
    L = team_models(store).Lease
    row = L.get_or_none(L.name == name)
    return LeaseInfo(row.name, row.holder, row.expires_at) if row is not None else None


class LeaseKeeper:
    """Keeps trying to hold ``lease`` on a thread; renews it every ``ttl / 3`` seconds.

    ``on_acquired()`` is called when this process becomes the holder, ``on_lost()`` when
    it stops being one: someone took over, :meth:`stop`, or the holder's deadline passed
    without a renewal (the database unreachable, or a renewal stuck behind a lock) — a
    watchdog thread says so at the deadline even while the renewal is still waiting, so
    the caller never runs past it. Both are called from the keeper's threads, one at a
    time, and must return quickly. While another process holds the lease, the keeper
    retries every ``retry`` seconds (and at once when the holder releases it cleanly).
    """

    def __init__(self, lease: Lease, on_acquired: Callable[[], None],
                 on_lost: Callable[[], None], retry: float | None = None) -> None:
        self.lease = lease
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.renew_every = lease.ttl / 3
        self.retry = retry if retry is not None else lease.ttl / 3
        self.holding = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cond = threading.Condition()  # guards holding; wakes the watchdog
        self._threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._threads:
            return
        self._unsubscribe = self.lease.store.bus.subscribe(self._on_event)
        self._threads = [
            threading.Thread(target=self._run, name=f"lease {self.lease.name}", daemon=True),
            threading.Thread(target=self._watch, name=f"lease watchdog {self.lease.name}",
                             daemon=True)]
        for thread in self._threads:
            thread.start()

    def _on_event(self, event: Event) -> None:
        if event.kind == LEASE_RELEASED and event.data.get("name") == self.lease.name:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                now_held = self.lease.acquire()
            except Exception:
                log.exception("lease %s: could not reach the database", self.lease.name)
                now_held = self.lease.held
            self._transition(now_held)
            wait = self.renew_every if now_held else self.retry
            if now_held:
                wait = min(wait, self.lease.remaining())
            self._wake.wait(wait)
        self._transition(False)

    def _watch(self) -> None:
        """At the holder's deadline, if no renewal came in time, the lease is lost."""
        with self._cond:
            while not self._stop.is_set():
                if not self.holding:
                    self._cond.wait()
                    continue
                left = self.lease.remaining()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.holding = False
                self.on_lost()

    def _transition(self, now_held: bool) -> None:
        with self._cond:
            if now_held and not self.holding:
                self.holding = True
                self.on_acquired()
            elif not now_held and self.holding:
                self.holding = False
                self.on_lost()
            self._cond.notify_all()

    def stop(self, release: bool = True) -> None:
        """Stop keeping the lease; ``release``: give it up now so another process takes over."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._threads:
            self._stop.set()
            self._wake.set()
            with self._cond:
                self._cond.notify_all()
            for thread in self._threads:
                thread.join(timeout=30)
            self._threads = []
        if release:
            try:
                self.lease.release()
            except Exception:
                log.exception("lease %s: could not release", self.lease.name)


class LeaseGate:
    """A :class:`LeaseKeeper` for asyncio code (a gateway running a channel's poller).

    ``held`` is set while this process holds the lease, ``lost`` while it does not (after
    it held it). A poller waits for ``held``, runs, and stops as soon as ``lost`` is set::

        gate = LeaseGate(Lease(store, channel_lease_name(channel_id)))
        gate.start()  # on the running loop
        await gate.held.wait()
        ...poll until gate.lost is set...
        gate.stop()
    """

    def __init__(self, lease: Lease, retry: float | None = None) -> None:
        self.lease = lease
        self.retry = retry
        self.held = asyncio.Event()
        self.lost = asyncio.Event()
        self._keeper: LeaseKeeper | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def acquired() -> None:
            self.lost.clear()
            self.held.set()

        def lost() -> None:
            self.held.clear()
            self.lost.set()

        self._keeper = LeaseKeeper(
            self.lease, on_acquired=lambda: loop.call_soon_threadsafe(acquired),
            on_lost=lambda: loop.call_soon_threadsafe(lost), retry=self.retry)
        self._keeper.start()

    async def stop(self, release: bool = True) -> None:
        """Stop keeping the lease (``release``: hand it over now); off the loop's thread."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            await asyncio.to_thread(keeper.stop, release)
        self.held.clear()
