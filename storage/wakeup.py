"""Change events between processes on one SQLite file, through local datagram sockets.

Why: SQLite has no LISTEN/NOTIFY. A reply committed by a second console or a script
on the same file would otherwise wait for the serving process's safety-net recheck
(minutes). Each process whose bus has subscribers binds a Unix datagram socket in a
directory private to the user and to the database (named by a hash of the file's
real path); after every commit, a store sends the committed events to every other
socket there. Nobody polls: the listener thread sleeps in ``select`` until a datagram
(or its own stop signal) arrives.

The directory is created ``0700`` and must belong to this user, so another local user
can neither read the events nor inject any. A socket left behind by a process that
died is removed by the first sender that finds nobody listening on it. Delivery is
best effort, like a wake-up should be: a receiver whose buffer is full misses an event
and catches up at its next wake-up or recheck; the database stays the truth.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import secrets
import select
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MAX_DATAGRAM = 60_000
SEND_TIMEOUT = 0.05
RACY_NS = 1_000_000_000  # a listing younger than this after a change is not kept


def peer_directory(db_path: str) -> Path:
    """The directory where the processes of one database file meet."""
    real = os.path.realpath(db_path)
    digest = hashlib.sha256(real.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"switchboard-{os.getuid()}" / digest


def _private_dir(path: Path) -> bool:
    """Create ``path`` (and its parent) 0700; False when either is not this user's own."""
    for part in (path.parent, path):
        try:
            part.mkdir(mode=0o700, exist_ok=True)
            info = part.lstat()
        except OSError:
            return False
        if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
                or info.st_mode & 0o077):
            log.warning("cross-process events disabled: %s is not a private directory", part)
            return False
    return True


class Peers:
    """Send one commit's events to the other processes; listen for theirs."""

    def __init__(self, db_path: str) -> None:
        self.directory = peer_directory(db_path)
        self._sender: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._own: str | None = None
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        self._unusable = False
        # (directory mtime in ns, the other sockets then): see _peers
        self._listing: tuple[int, list[str]] | None = None

    # ---- sending (any thread, after a commit) -------------------------------------------
    def _peers(self) -> list[str]:
        """The other processes' sockets. Listing the directory on every commit cost
        0.6 ms at load (bench/PROFILE.md §8): the list is kept while the directory's
        mtime stays what it was, which a peer binding or removing its socket changes.
        The kernel's file clock is coarse, so a change in the same tick as the listing
        could keep the mtime: a listing is only trusted once the directory's last change
        is RACY_NS older than the listing (the "racy git" rule)."""
        try:
            mtime = os.stat(self.directory).st_mtime_ns
        except OSError:
            self._listing = None
            return []  # nobody has listened on this database yet
        cached = self._listing
        if cached is not None and cached[0] == mtime:
            return cached[1]
        listed_at = time.time_ns()
        try:
            names = [e.path for e in os.scandir(self.directory)
                     if e.name.endswith(".sock") and e.path != self._own]
        except OSError:
            self._listing = None
            return []
        self._listing = (mtime, names) if listed_at - mtime > RACY_NS else None
        return names

    def publish(self, payloads: list[dict[str, object]]) -> None:
        names = self._peers()
        if not names:
            return
        data = json.dumps(payloads, ensure_ascii=False).encode()
        if len(data) > MAX_DATAGRAM:  # keep what wakes the receivers, drop the details
            data = json.dumps([{**p, "data": {}} for p in payloads]).encode()[:MAX_DATAGRAM]
        with self._send_lock:
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.settimeout(SEND_TIMEOUT)
            for name in names:
                try:
                    self._sender.sendto(data, name)
                except OSError as err:
                    self._listing = None  # list the directory again next time
                    if err.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        with contextlib.suppress(OSError):
                            os.unlink(name)  # its process is gone
                    # else (a full buffer, a timeout): best effort, see the module doc

    # ---- listening ----------------------------------------------------------------------
    def listen(self, deliver: Callable[[list[object]], None]) -> bool:
        """Start the listener thread (once); ``deliver(list)`` gets each datagram's
        events. False when the directory is not usable (events stay in-process)."""
        if self._thread is not None:
            return True
        if self._unusable or not _private_dir(self.directory):
            self._unusable = True  # said once; events stay in this process
            return False
        path = str(self.directory / f"{os.getpid()}-{secrets.token_hex(4)}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(path)
        except OSError:
            sock.close()
            self._unusable = True
            log.warning("cross-process events disabled: cannot bind %s", path, exc_info=True)
            return False
        self._listener, self._own = sock, path
        self._listing = None
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, args=(deliver,), name="sqlite-events",
                                        daemon=True)
        self._thread.start()
        return True

    def _run(self, deliver: Callable[[list[object]], None]) -> None:
        sock = self._listener
        assert sock is not None
        while True:
            readable, _w, _x = select.select([sock, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                data = sock.recv(MAX_DATAGRAM + 1024)
                items = json.loads(data)
            except (OSError, ValueError):
                log.warning("ignored an unreadable cross-process event")
                continue
            if isinstance(items, list):
                deliver(items)

    def close(self) -> None:
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=2)
            self._thread = None
            os.close(self._wake_r)
            os.close(self._wake_w)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._own is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._own)
            self._own = None
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None
