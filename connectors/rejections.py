"""Rate-limited WARNING lines for refused requests, and which store errors are final.

Why: an operator asking "why do my client's messages not arrive?" needs a log line
for every request a channel refuses (bad signature, not JSON, a field missing), with
the reason — but never the secret or the body. A sender in a loop (or an attacker)
can send thousands of bad requests a minute, so each route logs at most ``limit``
lines per ``window`` seconds and then one summary line with the count it held back:
the disk cannot be filled through this path.

Why :func:`is_permanent`: a webhook answered 5xx is delivered again by its sender. That
is right when the store was briefly unavailable (a lock, a lost connection) and wrong
when the message itself can never be stored: it would come back forever. Each
connector's handler decides from this what to answer (see their docstrings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import peewee as pw

from storage.errors import SwitchboardError

DEFAULT_LIMIT = 20
DEFAULT_WINDOW = 60.0
MAX_REASON = 300


def printable(text: str, limit: int = MAX_REASON) -> str:
    """``text`` safe for one log line: control characters escaped (a reason may quote
    what a client sent, and a newline in it must not forge a second log line), cut."""
    text = text[:limit]
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class RejectionLog:
    """One route's refusals: ``reject(reason)`` logs a WARNING, at most ``limit`` per window.

    Called on the event loop only (the connectors' handlers), so no lock is needed.
    When lines were held back, a summary is logged when the window ends (a timer on
    the running loop, if there is one) or at the next refusal after it, whichever
    comes first."""

    def __init__(self, logger: logging.Logger, route: str, *, limit: int = DEFAULT_LIMIT,
                 window: float = DEFAULT_WINDOW,
                 clock: Callable[[], float] = time.monotonic,
                 what: str = "refused a request") -> None:
        self.logger = logger
        self.route = route
        self.what = what  # the line's verb: "refused a request", "closed a socket"
        self.limit = max(1, limit)
        self.window = window
        self.clock = clock
        self._started = clock()
        self._logged = 0
        self._held = 0
        self._timer: asyncio.TimerHandle | None = None

    def reject(self, reason: str, status: int | None = None, peer: str | None = None) -> None:
        """Log that a request was refused and why (``reason`` must hold no secret)."""
        now = self.clock()
        if now - self._started >= self.window:
            self.flush()
            self._started, self._logged = now, 0
        if self._logged >= self.limit:
            self._held += 1
            self._arm_timer(now)
            return
        self._logged += 1
        where = f" from {peer}" if peer else ""
        code = f" ({status})" if status is not None else ""
        self.logger.warning("%s: %s%s%s: %s", self.route, self.what, where, code,
                            printable(reason))

    def flush(self) -> None:
        """Log the count of refusals held back, if any (also the timer's callback)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._held:
            held, self._held = self._held, 0
            what = "refused request(s)" if self.what == "refused a request" else (
                f"times {self.what}")
            self.logger.warning("%s: %d more %s not logged one by one in the last %.0f s",
                                self.route, held, what, self.window)

    def close(self) -> None:
        """Stop the timer and log what is held back (the connector stops)."""
        self.flush()

    def _arm_timer(self, now: float) -> None:
        if self._timer is not None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the next refusal flushes
            loop = asyncio.get_running_loop()
            delay = max(self.window - (now - self._started), 0.0)
            self._timer = loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()
        self._started, self._logged = self.clock(), 0


def is_permanent(err: BaseException) -> bool:
    """True when storing failed because of the message itself, so trying again is useless.

    SwitchboardError is a domain refusal; ValueError/TypeError (a driver refusing a
    value: a character the database cannot hold, a number out of range) and peewee's
    DataError are about the data. Anything else is taken as the store being unavailable
    (OperationalError: "database is locked", a full disk, a lost connection; the writer
    not running) and is transient. IntegrityError is transient too: a unique clash is
    how two processes racing to store the same message look, and the retry then finds
    the message stored — when in doubt, a repeat is better than a lost message."""
    return isinstance(err, SwitchboardError | ValueError | TypeError | pw.DataError)
