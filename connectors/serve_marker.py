"""Whether a ``switchboard serve`` runs for a SQLite database file.

Each ``serve`` holds an exclusive ``flock`` on its own file in ``<database>.serve.d/``
for as long as it runs. A console on the same file looks there before it starts its
in-process gateway: a file whose lock it cannot share belongs to a live ``serve``,
so the console leaves the channels to it. The kernel drops the lock when the process
dies however it dies, so a crashed ``serve`` leaves only an unlocked file, which the
next look removes: the marker is never stale.

Checking takes only shared locks, so consoles starting together never mistake each
other for a ``serve``. A marker file is locked under a temporary name and then renamed
into place, so no check ever sees (and removes) a marker that is not locked yet.

PostgreSQL needs none of this: consoles on PostgreSQL never run a gateway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from pathlib import Path

SUFFIX = ".lock"


def marker_directory(db_path: str) -> Path:
    """Where the markers of the database file ``db_path`` live (beside the file)."""
    return Path(os.path.realpath(db_path) + ".serve.d")


class ServeMarker:
    """Held by a running ``serve``: ``hold()`` at start, ``release()`` at exit."""

    def __init__(self, db_path: str) -> None:
        self.directory = marker_directory(db_path)
        self.path: Path | None = None
        self._fd: int | None = None

    def hold(self) -> None:
        if self._fd is not None:
            return
        self.directory.mkdir(mode=0o755, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        temporary = self.directory / f"{name}.new"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            final = self.directory / f"{name}{SUFFIX}"
            os.rename(temporary, final)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._fd, self.path = fd, final

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(fd)
        self.path = None

    def __enter__(self) -> ServeMarker:
        self.hold()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def serve_running(db_path: str) -> bool:
    """True when a live ``serve`` holds a marker for the database file ``db_path``."""
    directory = marker_directory(db_path)
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return False
    running = False
    for entry in entries:
        if not entry.name.endswith(SUFFIX):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # removed meanwhile (that serve stopped)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            running = True
            continue
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):  # left by a serve that died: not running
            os.unlink(entry.path)
    return running
