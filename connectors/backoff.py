"""Capped exponential backoff with jitter, shared by connector restarts and send retries.

Jitter matters: many connectors (or many queued messages) failing at the same moment
must not all retry at the same moment again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Attempt n (from 0) waits a random time in [ceiling/2, ceiling], ceiling = min(cap, base·2ⁿ)."""

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(max(attempt, 0), 62)))
        return random.uniform(ceiling / 2, ceiling)
