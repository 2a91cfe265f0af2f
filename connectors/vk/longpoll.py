"""VK Bots Long Poll: ``groups.getLongPollServer`` then ``a_check`` in a loop.

Wire (https://dev.vk.com/ru/api/bots-long-poll/getting-started): the server answers
``{"ts": "…", "updates": [event, …]}`` or ``{"failed": N, "ts"?}``:

* ``failed: 1`` — the history is out of date: continue from the returned ``ts``;
* ``failed: 2`` — the key expired: get a new key, keep our ``ts``;
* ``failed: 3`` — the information was lost: get a new key *and* ``ts``.

``ts`` is a string and is kept in the store (``vk:{channel id}:ts``) only after the
batch it follows is committed: a crash re-reads at worst a committed batch (the store
is idempotent on the message key), never skips one. While the store is failing the
same batch is retried and ``ts`` does not move.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.base import ConnectorError
from connectors.telegram.api import sleep_or_stop
from connectors.vk.api import VkApi, VkApiError, VkNetworkError
from storage.i18n import _
from storage.ports import ConnectorStore

log = logging.getLogger("switchboard.vk")

AUTH_FAILED = 5
HandleBatch = Callable[[list[Any]], Awaitable[None]]
Report = Callable[[str, str], None]  # (state, detail)


class LongPoller:
    def __init__(self, api: VkApi, store: ConnectorStore, channel_id: int, group_id: int,
                 handle_batch: HandleBatch, report: Report, stop: asyncio.Event, *,
                 wait: int = 25, backoff_initial: float = 1.0, backoff_max: float = 60.0) -> None:
        self.api = api
        self.store = store
        self.group_id = group_id
        self.handle_batch = handle_batch
        self.report = report
        self.stop = stop
        self.wait = wait
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.ts_key = f"vk:{channel_id}:ts"
        self.server = self.key = ""
        self.ts = ""

    def _backoff(self, failures: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2 ** max(failures - 1, 0)))
        return base * random.uniform(0.8, 1.2)

    async def connect(self, *, new_ts: bool) -> None:
        """A new server and key; ``ts`` from VK when asked or when none is kept."""
        found = await self.api.groups_get_long_poll_server(self.group_id)
        self.server, self.key = str(found["server"]), str(found["key"])
        if not self.server.startswith(("http://", "https://")):
            self.server = "https://" + self.server
        if new_ts or not self.ts:
            await self._save_ts(str(found["ts"]))

    async def _save_ts(self, ts: str) -> None:
        if ts != self.ts:
            self.ts = ts
            await asyncio.to_thread(self.store.set_state, self.ts_key, ts)

    async def run(self) -> None:
        """Poll until ``stop`` is set; raise ConnectorError when the token is refused."""
        self.ts = await asyncio.to_thread(self.store.get_state, self.ts_key) or ""
        failures = 0
        connected = False
        while not self.stop.is_set():
            try:
                if not connected:
                    await self.connect(new_ts=False)
                    connected = True
                data = await self.api.long_poll(self.server, self.key, self.ts, self.wait)
                if await self._apply(data):
                    connected = False
            except VkApiError as err:
                if err.code == AUTH_FAILED:
                    raise ConnectorError(_("VK refused the access token ({code}): {message}")
                                         .format(code=err.code, message=err.message)) from None
                detail = _("VK {method} failed ({code}): {message}").format(
                    method=err.method, code=err.code, message=err.message)
            except VkNetworkError as err:
                connected = False
                detail = str(err)
            except Exception as err:  # the store failed: ts stays, the batch comes again
                log.exception("vk: storing long poll events failed")
                detail = _("Cannot store VK events: {error}").format(error=err)
            else:
                if failures:
                    self.report("ok", "")
                failures = 0
                continue
            failures += 1
            self.report("degraded", detail)
            if await sleep_or_stop(self.stop, self._backoff(failures)):
                return

    async def _apply(self, data: dict[str, Any]) -> bool:
        """Handle one answer; True when a new key is needed."""
        failed = data.get("failed")
        if failed == 1:
            if isinstance(data.get("ts"), str | int):
                await self._save_ts(str(data["ts"]))
            return False
        if failed == 2:
            return True
        if failed == 3:
            log.warning("vk: long poll history lost (failed 3): taking a new ts")
            await self.connect(new_ts=True)
            return False
        if failed is not None:
            log.warning("vk: long poll answered failed=%r: reconnecting", failed)
            return True
        updates = data.get("updates")
        await self.handle_batch(updates if isinstance(updates, list) else [])
        if isinstance(data.get("ts"), str | int):
            await self._save_ts(str(data["ts"]))
        return False
