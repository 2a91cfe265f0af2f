"""Token buckets keyed by who is asking: the server's and the web chat's rate limits.

Why a bucket: a person typing fast, or a messenger delivering a backlog after an
outage, sends bursts; a loop or an attack sends forever. A bucket allows ``burst``
requests at once and then ``rate`` per second, so the first is never refused and the
second is held to a pace. ``take`` answers how long to wait when it refuses (the
``Retry-After`` a refusal carries), so a well-behaved sender can come back exactly
when there is room.

Buckets are kept per key (a visitor, an address, a route) and forgotten once they are
full again, so a flood of distinct keys costs memory only while they are active; a
hard cap on the number of keys keeps even that bounded. Used on the event loop only,
so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_KEYS = 100_000


class RateLimiter:
    """``take(key)`` → 0.0 when allowed, else the seconds until one more is allowed."""

    def __init__(self, rate: float, burst: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(float(rate), 1e-9)
        self.burst = max(float(burst), 1.0)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return 0.0
        self._store(key, tokens, now)
        return (1.0 - tokens) / self.rate

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._prune(now)
        self._buckets[key] = (tokens, now)

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled (they hold nothing a new one would not)."""
        full = [k for k, (tokens, at) in self._buckets.items()
                if tokens + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # all busy: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:MAX_KEYS // 2]:
                del self._buckets[key]
