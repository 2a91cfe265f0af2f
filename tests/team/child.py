"""A separate process for the team tests: ``python -m tests.team.child MODE URL …``.

Every mode opens its own store on URL (a real second process, its own connections),
prints ``ready`` when set up and then follows its script, printing one JSON line per
thing worth checking. The parent drives it through stdin: the first line is "go", EOF
means "leave cleanly".

* ``take URL TASK_ID OPERATOR``: wait for "go", take the task, print the result.
* ``announce URL OPERATOR TASK_ID HEARTBEAT``: announce presence in the task, typing;
  leave cleanly at EOF.
* ``lease URL NAME TTL``: keep the lease; print every grant (wall-clock interval during
  which this process may act as the holder), every acquisition and every loss.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from storage.store import Store

_EMIT = threading.Lock()


def emit(**data: object) -> None:
    """One JSON line, whole: the lease keeper's thread and the main thread both emit, and
    ``print`` writes the text and its newline separately, so two lines could interleave
    into one that is not JSON (a grant was lost that way once)."""
    with _EMIT:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()


def take_mode(url: str, task_id: str, name: str) -> None:
    from storage.taking import take

    store = Store.open(url)
    try:
        operator = store.ensure_operator(name)
        emit(event="ready")
        if sys.stdin.readline().strip() != "go":
            return
        result = take(store, int(task_id), operator.id)
        emit(event="result", won=result.won, winner_id=result.winner_id,
             winner_name=result.winner_name, me=operator.id, message=result.message())
    finally:
        store.close()


def announce_mode(url: str, name: str, task_id: str, heartbeat: str) -> None:
    from storage.presence import PresenceAnnouncer

    store = Store.open(url)
    try:
        operator = store.ensure_operator(name)
        announcer = PresenceAnnouncer(store, operator.id, operator.name,
                                      heartbeat=float(heartbeat), typing_ttl=3600)
        announcer.start()
        announcer.typing(int(task_id))
        emit(event="ready", session=announcer.session)
        sys.stdin.read()  # until EOF
        announcer.close()
        emit(event="left")
    finally:
        store.close()


def lease_mode(url: str, name: str, ttl: str) -> None:
    from storage.leases import Lease, LeaseKeeper

    class LoggedLease(Lease):
        def acquire(self) -> bool:
            mono = time.monotonic()
            wall = time.time()
            won = super().acquire()
            if won:  # the interval this process may act as holder, on the shared wall clock
                emit(event="grant", start=time.time(), until=wall + (self._deadline - mono))
            return won

    store = Store.open(url)
    try:
        lease = LoggedLease(store, name, ttl=float(ttl))
        keeper = LeaseKeeper(lease, on_acquired=lambda: emit(event="acquired", at=time.time()),
                             on_lost=lambda: emit(event="lost", at=time.time()))
        keeper.start()
        emit(event="ready", holder=lease.holder)
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()
        keeper.stop()
        emit(event="stopped")
    finally:
        store.close()


MODES = {"take": take_mode, "announce": announce_mode, "lease": lease_mode}

if __name__ == "__main__":
    MODES[sys.argv[1]](*sys.argv[2:])
