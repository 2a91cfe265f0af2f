"""storage.wakeup.Peers keeps the peers' list between commits (no directory listing per
commit) and still reaches a peer that joins later and forgets one that is gone."""

from __future__ import annotations

import os
import queue
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import wakeup
from storage.wakeup import Peers


class Inbox:
    def __init__(self) -> None:
        self.got: queue.Queue[list[object]] = queue.Queue()

    def __call__(self, items: list[object]) -> None:
        self.got.put(items)

    def next(self) -> list[object]:
        return self.got.get(timeout=10)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A short runtime directory of its own: a Unix socket's path is at most 107 bytes.
    with tempfile.TemporaryDirectory(prefix="sbw") as run:
        monkeypatch.setenv("XDG_RUNTIME_DIR", run)
        yield str(tmp_path / "desk.db")


def settle(directory: Path) -> None:
    """Date the directory's last change two seconds back, as if the peers had joined
    long ago (a listing made right after a change is not kept: the file clock is coarse)."""
    info = directory.stat()
    os.utime(directory, ns=(info.st_atime_ns, info.st_mtime_ns - 2_000_000_000))


def test_the_list_is_kept_while_nobody_joins_or_leaves(db: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    listings: list[object] = []
    real_scandir = os.scandir

    def counted(path: object) -> object:
        listings.append(path)
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(wakeup.os, "scandir", counted)
    first, sender = Peers(db), Peers(db)
    inbox = Inbox()
    try:
        assert first.listen(inbox)
        settle(first.directory)
        for n in range(5):
            sender.publish([{"n": n}])
            assert inbox.next() == [{"n": n}]
        assert len(listings) == 1

        # A second process joins: its socket changes the directory; the next commit sees it.
        second, late = Peers(db), Inbox()
        assert second.listen(late)
        sender.publish([{"n": 5}])
        assert late.next() == [{"n": 5}]
        assert inbox.next() == [{"n": 5}]
        assert len(listings) == 2

        # The first one goes away: nothing fails, the other still gets every event.
        first.close()
        sender.publish([{"n": 6}])
        assert late.next() == [{"n": 6}]
        second.close()
    finally:
        first.close()
        sender.close()


def test_a_listing_right_after_a_change_is_not_kept(db: str) -> None:
    """Two peers joining within one tick of the file clock leave the same mtime: the
    listing made between them must not hide the second."""
    first, sender, second = Peers(db), Peers(db), Peers(db)
    a, b = Inbox(), Inbox()
    try:
        assert first.listen(a)
        sender.publish([{"n": 1}])  # listed now, moments after first joined
        assert a.next() == [{"n": 1}]
        mtime = first.directory.stat().st_mtime_ns
        assert second.listen(b)
        os.utime(first.directory, ns=(mtime, mtime))  # the same tick of the file clock
        sender.publish([{"n": 2}])
        assert b.next() == [{"n": 2}]
        assert a.next() == [{"n": 2}]
    finally:
        for p in (first, second, sender):
            p.close()


def test_a_peer_that_died_is_dropped_and_the_list_refreshed(db: str) -> None:
    alive, sender = Peers(db), Peers(db)
    inbox = Inbox()
    try:
        assert alive.listen(inbox)
        # A socket file nobody listens on (its process died without closing).
        dead = alive.directory / "999999-dead.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.bind(str(dead))
        settle(alive.directory)
        sender.publish([{"n": 1}])
        assert inbox.next() == [{"n": 1}]
        assert not dead.exists()  # removed by the sender that found nobody there
        sender.publish([{"n": 2}])
        assert inbox.next() == [{"n": 2}]
    finally:
        alive.close()
        sender.close()
