"""How fast the web chat's visitors may go (the ``server:`` settings of
:class:`connectors.http_server.ServerLimits`).

* messages: each visitor sends ``visitor_messages_per_second`` with a ``visitor_burst``,
  shared by the socket's ``message`` frames and the upload route;
* other frames (receipts, names, older pages, a known visitor's hello) get
  :data:`OTHER_FRAMES_FACTOR` times that allowance: generous for a page, a wall for a loop;
* new visitors: one address starts at most ``new_chats_per_minute``.

One :class:`Pacing` per channel, shared by the socket and the upload route; the gateway
hands in the server's limits once they are known (:meth:`Pacing.apply`).
"""

from __future__ import annotations

from connectors.http_server import ServerLimits
from connectors.ratelimit import RateLimiter

OTHER_FRAMES_FACTOR = 20


class Pacing:
    def __init__(self, limits: ServerLimits | None = None) -> None:
        self.apply(limits or ServerLimits())

    def apply(self, limits: ServerLimits) -> None:
        """Use ``limits`` from now on (fresh buckets)."""
        self.limits = limits
        self.messages = RateLimiter(limits.visitor_messages_per_second, limits.visitor_burst)
        self.frames = RateLimiter(limits.visitor_messages_per_second * OTHER_FRAMES_FACTOR,
                                  limits.visitor_burst * OTHER_FRAMES_FACTOR)
        self.new_chats = RateLimiter(limits.new_chats_per_minute / 60.0,
                                     limits.new_chats_per_minute)
