"""Which connectors need a channel lease, and running one only while the lease is held.

A poller (Telegram ``getUpdates``, VK Bots Long Poll) must run in exactly one process:
two pollers of one bot fight (Telegram answers 409 to the earlier one) and both store
the same updates. Webhook and web-chat handlers need no lease: any ``serve`` behind a
load balancer may answer them, and ingest is idempotent on the channel's message id.

A connector says so itself with a ``polls`` attribute (bool); the channels that
predate the attribute are recognised by their ``mode`` option.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from connectors.base import ChannelSpec

# kind → the ``mode`` values that poll (the kind's default mode when the option is absent).
_POLLING_MODES: dict[str, tuple[frozenset[str], str]] = {
    "telegram": (frozenset({"polling"}), "polling"),
    "vk": (frozenset({"longpoll"}), "callback"),
}


def needs_lease(connector: Any, spec: ChannelSpec) -> bool:
    """True when ``connector`` polls its platform, so only one process may run it."""
    declared = getattr(connector, "polls", None)
    if isinstance(declared, bool):
        return declared
    modes = _POLLING_MODES.get(spec.kind)
    if modes is None:
        return False
    polling, default = modes
    return str((spec.options or {}).get("mode") or default) in polling


async def first_of(body: Awaitable[None], *events: asyncio.Event) -> bool:
    """Run ``body`` until it ends or one of ``events`` is set (``body`` is then cancelled).

    True when ``body`` ended (its exception propagates), False when an event came first.
    """
    task = asyncio.ensure_future(body)
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait([task, *waiters], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()
    return True
