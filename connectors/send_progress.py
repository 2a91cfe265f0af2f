"""Which parts of a split message the platform already accepted, kept durably.

A long reply goes out as several calls. When one fails, the outbox retries the
message; the ids of the parts already sent are kept in the store's durable state
(``{kind}:{channel id}:sending:{message id}``) so the retry sends only the missing
parts, even after a restart. Channels with no idempotency key (Telegram, Viber, the
Meta platforms) share this one record.
"""

from __future__ import annotations

import asyncio
import json

from storage.ports import ConnectorStore


class SendProgress:
    def __init__(self, store: ConnectorStore, kind: str, channel_id: int) -> None:
        self.store = store
        self.prefix = f"{kind}:{channel_id}:sending:"

    def key(self, message_id: int) -> str:
        return f"{self.prefix}{message_id}"

    async def load(self, message_id: int) -> list[str]:
        """The ids of the parts already sent (none: a first attempt or a damaged record)."""
        saved = await asyncio.to_thread(self.store.get_state, self.key(message_id))
        try:
            ids = json.loads(saved) if saved else []
        except ValueError:
            return []
        return [str(i) for i in ids] if isinstance(ids, list) else []

    async def save(self, message_id: int, ids: list[str]) -> None:
        """Record the parts sent so far; an empty list clears the record."""
        await asyncio.to_thread(self.store.set_state, self.key(message_id),
                                json.dumps(ids) if ids else "")
