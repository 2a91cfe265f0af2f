"""Where the console's presence objects live: one announcer and one tracker per app.

The app (C1's wiring) may create them itself as ``app.presence_announcer`` and
``app.presence_tracker``; :class:`PresenceWiring` does it for an app that has not yet
(``PresenceWiring(store, operator).attach(app)`` at start, ``close()`` at exit). The
composer's side reads them with :func:`announcer` / :func:`tracker`: without them
typing is simply not announced and the collision notice sees replies only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storage.presence import PresenceAnnouncer, PresenceTracker
from storage.rows import OperatorRow
from storage.store import Store


def announcer(app: Any) -> PresenceAnnouncer | None:
    return getattr(app, "presence_announcer", None)


def tracker(app: Any) -> PresenceTracker | None:
    return getattr(app, "presence_tracker", None)


class PresenceWiring:
    """Creates, starts and closes this console's announcer and tracker."""

    def __init__(self, store: Store, operator: OperatorRow,
                 on_change: Callable[[], None] | None = None) -> None:
        self.announcer = PresenceAnnouncer(store, operator.id, operator.name)
        self.tracker = PresenceTracker(store, on_change)
        # Our own typing is never a collision: the tracker skips this session.
        self.tracker_session = self.announcer.session

    def attach(self, app: Any) -> None:
        app.presence_announcer = self.announcer
        app.presence_tracker = self.tracker
        self.tracker.start()
        self.announcer.start()

    def close(self) -> None:
        self.announcer.close()
        self.tracker.stop()
