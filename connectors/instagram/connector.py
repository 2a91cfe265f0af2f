"""The Instagram Direct connector: Instagram messaging webhooks in, the Send API out.

Options (``channels[].options``; see docs/instagram.md): ``page_access_token``,
``app_secret``, ``verify_token``, ``page_id`` (all required; the Facebook Page linked
to the Instagram professional account), ``instagram_account_id`` (optional: when set,
entries for other Instagram accounts are skipped — ``entry.id`` is the Instagram
account id, not the Page id), ``api_base``, ``api_version``, ``media_dir``,
``max_media_bytes``.

Instagram differs from Messenger (https://developers.facebook.com/docs/
instagram-platform/webhooks/ and the Instagram Messaging reference):

* text is limited to 1,000 UTF-8 **bytes** (about 550 Cyrillic characters): longer
  replies are split at word boundaries by bytes, never refused by the platform;
* outside the window the error is 10/2534022 (Messenger's is 10/2018278);
* the page's own sends come back as ``is_echo`` messages: never stored as the client's;
* there are no delivery receipts; a read names one ``mid``;
* a message the client unsent arrives with ``is_deleted``.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.instagram import InstagramOptions
from connectors.meta.messaging import Deleted, Delivered, Read
from connectors.meta.page import PageConnector
from storage.channel_policy import LIMIT_UTF8_BYTES
from storage.constants import DELIVERED, READ


class InstagramConnector(PageConnector):
    kind: ClassVar[str] = "instagram"
    title: ClassVar[str] = "Instagram"
    object_name: ClassVar[str] = "instagram"
    text_limit: ClassVar[int] = 1000
    limit_unit: ClassVar[str] = LIMIT_UTF8_BYTES
    window_subcode: ClassVar[int] = 2534022
    profile_fields: ClassVar[str] = "name,username"
    options: InstagramOptions

    def own_entry(self, entry_id: str) -> bool:
        account = self.options.instagram_account_id
        return not account or not entry_id or entry_id == account

    async def receipt(self, event: Delivered | Read) -> None:
        state = READ if isinstance(event, Read) else DELIVERED
        mids = (event.mid,) if isinstance(event, Read) and event.mid else (
            event.mids if isinstance(event, Delivered) else ())
        for mid in mids:
            await self.guarded(f"{state} of {mid}", self.mark(mid, state))

    async def deleted(self, event: Deleted) -> None:
        await super().deleted(event)  # marked deleted in the store (connectors/meta/page.py)
