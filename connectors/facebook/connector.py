"""The Facebook Messenger connector: page webhooks in, the Send API out.

Options (``channels[].options``; see docs/facebook.md): ``page_access_token``,
``app_secret``, ``verify_token``, ``page_id`` (all required), ``api_base``,
``api_version``, ``media_dir``, ``max_media_bytes``.

Only entries for ``page_id`` are taken: one Meta app may serve several pages, and a
message must reach the channel (and the client) it belongs to.

Receipts (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/
message-deliveries and message-reads): ``delivery`` names the ``mids`` delivered (they may
be missing) and a ``watermark``; ``read`` has only a ``watermark`` — every message sent
before it was read. A watermark is applied to the replies of this conversation written
before it (the newest page of the thread), never moving a state backwards.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from connectors.facebook import FacebookOptions
from connectors.meta.messaging import Delivered, Read
from connectors.meta.page import PageConnector
from storage.channel_policy import LIMIT_CHARS
from storage.constants import DELIVERED, OUTBOUND, READ, SENT

RECEIPT_SCAN = 100  # replies looked at for a watermark (the newest page of the thread)


class FacebookConnector(PageConnector):
    kind: ClassVar[str] = "facebook"
    title: ClassVar[str] = "Messenger"
    object_name: ClassVar[str] = "page"
    text_limit: ClassVar[int] = 2000
    limit_unit: ClassVar[str] = LIMIT_CHARS
    window_subcode: ClassVar[int] = 2018278
    profile_fields: ClassVar[str] = "first_name,last_name"
    options: FacebookOptions

    def own_entry(self, entry_id: str) -> bool:
        return not entry_id or entry_id == self.page_id

    async def receipt(self, event: Delivered | Read) -> None:
        if isinstance(event, Delivered) and event.mids:
            for mid in event.mids:
                await self.guarded(f"delivery of {mid}", self.mark(mid, DELIVERED))
            return
        if event.watermark is None:
            return
        state = READ if isinstance(event, Read) else DELIVERED
        for external_id in await asyncio.to_thread(self._sent_before, event.sender,
                                                   event.watermark, state):
            await self.guarded(f"{state} of {external_id}", self.mark(external_id, state))

    def _sent_before(self, psid: str, watermark: datetime, state: str) -> list[str]:
        """External ids of this conversation's replies written up to ``watermark`` whose
        state is below ``state``."""
        task_id = self.store.chat_task_id(self.spec.id, psid)
        if task_id is None:
            return []
        below = (SENT,) if state == DELIVERED else (SENT, DELIVERED)
        page = self.store.thread_before(task_id, None, RECEIPT_SCAN)
        return [m.external_id for m in page.items
                if m.kind == OUTBOUND and m.external_id and m.delivery_state in below
                and m.chat_id in (None, psid) and m.created_at <= watermark]
