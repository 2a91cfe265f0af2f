"""The channels a console runs in its own process, from build to stop.

With SQLite the connectors run inside the console (one person, one machine). The
gateway is given built, or as a factory: building it imports aiohttp and every
configured connector, loads the rules and binds the port, none of which the first
frame needs, so the app asks for it once the first task rows are on screen. It is
built in a worker thread, then started on the app's loop (its HTTP server and pollers
must share that loop). Its health changes are handed to ``on_health`` from whichever
thread reports them; its addresses (e.g. the web chat URL) to ``notify``. At exit it
is stopped, and one built while the console was quitting releases its port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from storage.i18n import _

log = logging.getLogger(__name__)

HealthListener = Callable[[str, str, str], None]  # channel name, state, detail
Notify = Callable[..., None]  # App.notify


class ConsoleChannels:
    """A console's in-process gateway: a built one, one to build, or none."""

    def __init__(self, gateway: Any = None, factory: Callable[[], Any] | None = None) -> None:
        self.gateway = gateway
        self.factory = factory
        self.addresses: list[str] = []
        self._build: asyncio.Future[Any] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._on_health: HealthListener | None = None

    @property
    def runs(self) -> bool:
        """Whether this console runs the channels (a gateway given, or one to build)."""
        return self.gateway is not None or self.factory is not None

    def listen(self, on_health: HealthListener) -> None:
        """Report every health change to ``on_health`` (now, for a gateway already built)."""
        self._on_health = on_health
        if self.gateway is not None:
            self._attach(self.gateway)

    def _attach(self, gateway: Any) -> None:
        self.gateway = gateway
        if self._on_health is None:
            return
        self._unsubscribe = gateway.subscribe_health(self._on_health)
        for name, (state, detail) in gateway.health().items():
            self._on_health(name, state, detail)

    async def start(self, notify: Notify) -> None:
        """Build the gateway (in a thread) if needed and start it; a failure is a notice,
        because the console works without its channels."""
        try:
            if self.gateway is None:
                if self.factory is None:
                    return
                if self._build is None:
                    self._build = asyncio.get_running_loop().run_in_executor(None, self.factory)
                # Shielded: if the app quits meanwhile, stop() closes what was built.
                self._attach(await asyncio.shield(self._build))
                self.addresses = list(self.gateway.addresses())
                if self.addresses:
                    notify("\n".join(self.addresses), title=_("Channels"), timeout=10)
            await self.gateway.start()
        except Exception as err:  # noqa: BLE001 - the console works without channels
            log.exception("gateway failed to start")
            notify(_("Channels could not start: {error}").format(error=err),
                   severity="error", timeout=15)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.gateway is None and self._build is not None:
            await _close_unstarted(self._build)
        if self.gateway is not None:
            try:
                await asyncio.wait_for(self.gateway.stop(), timeout=5)
            except Exception:  # noqa: BLE001 - exiting anyway
                log.exception("gateway did not stop cleanly")


async def _close_unstarted(build: asyncio.Future[Any]) -> None:
    """A gateway built while the app was quitting: release its bound port."""
    try:
        gateway = await asyncio.wait_for(asyncio.shield(build), timeout=30)
    except Exception:  # noqa: BLE001 - it failed to build: nothing to release
        return
    await gateway.server.stop()
