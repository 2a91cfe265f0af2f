"""Channel leases: one holder at a time, renewed, taken over after the holder dies.

In-process checks of the rules, then real processes: a holder killed with SIGKILL is
replaced within ten seconds (the default ttl), and a holder frozen with SIGSTOP past
its ttl is replaced and, when it wakes, finds it lost the lease, with no moment at
which both processes considered themselves the holder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from storage.leases import (
    DEFAULT_TTL,
    Lease,
    LeaseGate,
    LeaseKeeper,
    channel_lease_name,
    lease_info,
)
from storage.store import Store
from tests.team.procs import Children


def test_one_holder_renews_others_are_refused(store: Store) -> None:
    first = Lease(store, "channel:1", holder="one", ttl=60)
    second = Lease(store, "channel:1", holder="two", ttl=60)
    assert first.acquire() and first.held
    assert 0 < first.remaining() <= 60 - first.margin
    assert not second.acquire() and not second.held
    assert first.acquire()  # renewal
    info = lease_info(store, "channel:1")
    assert info is not None and info.holder == "one"
    assert Lease(store, "channel:2", holder="two", ttl=60).acquire()  # another channel


def test_release_frees_it_and_only_the_holder_can_release(store: Store) -> None:
    first = Lease(store, channel_lease_name(5), holder="one", ttl=60)
    second = Lease(store, channel_lease_name(5), holder="two", ttl=60)
    assert first.acquire()
    second.release()  # not the holder: nothing happens
    assert not second.acquire()
    first.release()
    assert not first.held and lease_info(store, channel_lease_name(5)) is None
    assert second.acquire()


def test_an_expired_lease_is_taken_over_and_the_old_holder_knows(store: Store) -> None:
    old = Lease(store, "channel:1", holder="old", ttl=0.3)
    assert old.acquire()
    took = threading.Event()
    new = Lease(store, "channel:1", holder="new", ttl=60)
    keeper = LeaseKeeper(new, on_acquired=took.set, on_lost=lambda: None, retry=0.1)
    keeper.start()
    try:
        assert took.wait(30)
        assert not old.held  # its own deadline passed before the row expired
        assert not old.acquire()  # and renewing now fails: someone else has it
        assert lease_info(store, "channel:1").holder == "new"
    finally:
        keeper.stop()


def test_a_clean_stop_hands_over_at_once(store: Store) -> None:
    events: list[str] = []
    first_has_it, second_has_it = threading.Event(), threading.Event()
    first = LeaseKeeper(Lease(store, "channel:1", holder="one", ttl=60),
                        on_acquired=lambda: (events.append("one+"), first_has_it.set()),
                        on_lost=lambda: events.append("one-"))
    # The second keeper would retry only after an hour: the release event wakes it.
    second = LeaseKeeper(Lease(store, "channel:1", holder="two", ttl=60),
                         on_acquired=lambda: (events.append("two+"), second_has_it.set()),
                         on_lost=lambda: events.append("two-"), retry=3600)
    first.start()
    try:
        assert first_has_it.wait(30)
        second.start()
        first.stop()
        assert second_has_it.wait(30)
    finally:
        first.stop()
        second.stop()
    assert events == ["one+", "one-", "two+", "two-"]


class StuckLease(Lease):
    """Renewals after the first wait on ``unblock`` (a renewal stuck behind a lock)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unblock = threading.Event()
        self.calls = 0

    def acquire(self) -> bool:
        self.calls += 1
        if self.calls > 1:
            self.unblock.wait(60)
        return super().acquire()


def test_a_stuck_renewal_loses_the_lease_at_the_deadline(store: Store) -> None:
    lease = StuckLease(store, "channel:3", holder="one", ttl=0.6)
    got, lost, again = threading.Event(), threading.Event(), threading.Event()
    keeper = LeaseKeeper(lease, on_acquired=lambda: (again if got.is_set() else got).set(),
                         on_lost=lost.set)
    keeper.start()
    try:
        assert got.wait(30)
        # The second renewal hangs; the watchdog reports the loss at the deadline anyway.
        assert lost.wait(30)
        assert lease.calls == 2 and not lease.held and not keeper.holding
        lease.unblock.set()  # the renewal goes through late: the lease is held again
        assert again.wait(30)
    finally:
        lease.unblock.set()
        keeper.stop()


def _held(lines: list[dict[str, float]]) -> list[tuple[float, float]]:
    """When a process considered itself the holder: each grant, from its start to its
    deadline, cut short where the process said it lost the lease (it stopped, or was
    replaced) — the holder acts on its callbacks, not on the longest deadline."""
    held: list[list[float]] = []
    for line in lines:
        if line.get("event") == "grant":
            held.append([line["start"], line["until"]])
        elif line.get("event") == "lost":
            for interval in held:
                interval[1] = min(interval[1], line["at"])
    return [(start, until) for start, until in held]


@pytest.fixture
def lease_url(store_url: str) -> Iterator[str]:
    Store.open(store_url).close()  # the schema exists before the processes race to open it
    yield store_url


def test_failover_after_sigkill_within_ten_seconds(lease_url: str, children: Children) -> None:
    first = children.start("lease", lease_url, "channel:1", str(DEFAULT_TTL))
    first.expect("acquired")
    second = children.start("lease", lease_url, "channel:1", str(DEFAULT_TTL))
    second.expect("ready")
    killed_at = time.time()
    first.kill()
    took = second.expect("acquired", timeout=30)
    assert took["at"] - killed_at < 10.0
    last_grant = _held(first.drain())[-1]
    assert took["at"] >= last_grant[1]  # never both


def test_a_frozen_holder_is_replaced_and_learns_it_lost(lease_url: str,
                                                        children: Children) -> None:
    ttl = "1.0"
    first = children.start("lease", lease_url, "channel:1", ttl)
    first.expect("acquired")
    second = children.start("lease", lease_url, "channel:1", ttl)
    second.expect("ready")
    first.expect("grant")  # just renewed: not inside a transaction (a process frozen
    os.kill(first.proc.pid, signal.SIGSTOP)  # holding SQLite's write lock blocks everyone)
    try:
        second.expect("acquired", timeout=30)
    finally:
        os.kill(first.proc.pid, signal.SIGCONT)
    first.expect("lost", timeout=30)
    second.expect("grant", timeout=30)  # the new holder keeps renewing
    first.close_stdin()
    second.close_stdin()
    first.expect("stopped")
    second.expect("stopped")
    a, b = _held(first.drain()), _held(second.drain())
    assert a and b
    for start_a, until_a in a:
        for start_b, until_b in b:
            assert until_a <= start_b or until_b <= start_a, (a, b)


async def test_the_asyncio_gate_hands_the_poller_over(store: Store) -> None:
    first = LeaseGate(Lease(store, "channel:9", holder="one", ttl=60))
    second = LeaseGate(Lease(store, "channel:9", holder="two", ttl=60), retry=3600)
    first.start()
    try:
        await asyncio.wait_for(first.held.wait(), 30)
        second.start()
        await first.stop()  # releases: the second takes over at once, not in an hour
        await asyncio.wait_for(second.held.wait(), 30)
        assert not first.held.is_set()
        assert lease_info(store, "channel:9").holder == "two"
    finally:
        await first.stop()
        await second.stop()
