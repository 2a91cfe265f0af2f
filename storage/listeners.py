"""A thread-safe list of callbacks: the subscribe/notify half of every publisher here
(the store's event bus, the gateway's channel health)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Listeners:
    def __init__(self, what: str) -> None:
        self._what = what
        self._callbacks: list[Callable[..., Any]] = []
        self._lock = threading.Lock()

    def add(self, callback: Callable[..., Any]) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it (safe to call twice)."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def call(self, *args: Any) -> None:
        """Call every callback (outside the lock); one that raises is logged, never fatal."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(*args)
            except Exception:
                log.exception("%s subscriber failed", self._what)
