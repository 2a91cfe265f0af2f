"""The WhatsApp Business Cloud API connector: Meta's webhook in, the Graph API out.

Options (``channels[].options``; see docs/whatsapp.md):

``access_token``      a system-user token with ``whatsapp_business_messaging`` (required)
``app_secret``        the Meta app's secret: checks ``X-Hub-Signature-256`` (required)
``verify_token``      any string, also typed into the app dashboard (required)
``phone_number_id``   the number's id (not the number); events for other numbers are skipped
``api_base`` / ``api_version``   default ``https://graph.facebook.com`` / ``v21.0``
``templates``         approved template names offered by the composer (``name`` or
                      ``name:language``); ``template_language`` their default language
``media_dir`` / ``max_media_bytes``   where inbound files go and their size cap

Inbound media arrive as an id: ``GET /{media id}`` gives a short-lived URL, downloaded
with the same bearer token into the attachments folder (:mod:`connectors.media`).

Statuses move the reply's delivery state (sent → delivered → read, or failed with the
code and title); Meta repeats deliveries for days, so a ``(wamid, status)`` pair already
applied is skipped, and the store never moves a state backwards anyway.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, ClassVar

from connectors import media as media_files
from connectors.base import SendError, SendResult
from connectors.meta.connector import MetaConnector, Step
from connectors.meta.graph import GraphApi, GraphError, GraphNetworkError
from connectors.meta.text import split_text
from connectors.whatsapp import WhatsAppOptions
from connectors.whatsapp.parse import WaError, WaMessage, WaStatus, parse_body
from connectors.whatsapp.send import (
    TEXT_LIMIT,
    WINDOW_CLOSED,
    envelope,
    media_payload,
    message_id,
    send_error,
    template_payload,
    window_reason,
)
from storage.constants import DELIVERED, FAILED, READ, SENT
from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound
from storage.rows import OutboxItem

log = logging.getLogger("switchboard.whatsapp")

STATES = {"sent": SENT, "delivered": DELIVERED, "read": READ, "failed": FAILED}
SEEN_STATUSES = 10_000  # (wamid, status) pairs remembered against Meta's repeats


class WhatsAppConnector(MetaConnector):
    kind: ClassVar[str] = "whatsapp"
    title: ClassVar[str] = "WhatsApp"
    required: ClassVar[tuple[str, ...]] = ("access_token", "app_secret", "verify_token",
                                           "phone_number_id")
    options: WhatsAppOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phone_number_id = self.options.phone_number_id
        self.template_language = self.options.template_language
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def access_token(self) -> str:
        return self.options.access_token

    async def check_account(self, api: GraphApi) -> str:
        info = await api.get(self.phone_number_id,
                             {"fields": "display_phone_number,verified_name"})
        return str(info.get("display_phone_number") or info.get("verified_name") or "")

    # ---- inbound -----------------------------------------------------------------------
    def parse_payload(self, data: Any) -> list[Any]:
        events, foreign = parse_body(data, self.phone_number_id)
        if foreign:
            log.info("whatsapp %s: %d change(s) for another phone number skipped",
                     self.spec.name, foreign)
        return list(events)

    async def store_payload(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, WaMessage):
                if event.media is not None and await self.known(event.wamid):
                    continue  # a repeated delivery: no second download
                inbound = await self._inbound(event)
                await self.guarded(f"message {event.wamid}", self.ingest(inbound))
            elif isinstance(event, WaStatus):
                await self._status(event)
            elif isinstance(event, WaError):
                log.warning("whatsapp %s: webhook error: %s", self.spec.name, event.reason)

    async def _inbound(self, msg: WaMessage) -> Inbound:
        attachments: tuple[AttachmentIn, ...] = ()
        if msg.media is not None:
            attachments = (await self._download(msg.media.media_id, msg.media.name,
                                                msg.media.mime),)
        return Inbound(channel_id=self.spec.id, chat_id=msg.wa_id, sender_id=msg.wa_id,
                       text=msg.text, external_id=msg.wamid, sent_at=msg.sent_at,
                       display_name=msg.name, phone="+" + msg.wa_id.lstrip("+"),
                       attachments=attachments,
                       reply_to_external_id=msg.data.get("reply_to") or None)

    async def _download(self, media_id: str, name: str, mime: str) -> AttachmentIn:
        """Media id → ``GET /{id}`` → the URL → the file (bearer token on both calls)."""
        api = self.require_api()
        assert self.session is not None
        try:
            info = await api.get(media_id)
        except (GraphError, GraphNetworkError) as err:
            return media_files.failed(name, mime, str(err))
        url = info.get("url")
        if not isinstance(url, str) or not url:
            return media_files.failed(name, mime, _("WhatsApp gave no download URL"))
        return await self.media.download(self.session, url, name=name,
                                         mime=mime or str(info.get("mime_type") or ""),
                                         headers=api.auth)

    async def _status(self, status: WaStatus) -> None:
        state = STATES.get(status.status)
        key = (status.wamid, status.status)
        if state is None or key in self._seen:
            return
        reason = ""
        if state == FAILED:
            reason = (window_reason(status.reason) if status.code == WINDOW_CLOSED
                      else status.reason or _("WhatsApp reported the message as failed."))
        await self.guarded(f"status {status.status} of {status.wamid}",
                           self.mark(status.wamid, state, reason))
        self._seen[key] = None
        while len(self._seen) > SEEN_STATUSES:
            self._seen.popitem(last=False)

    # ---- outbound ----------------------------------------------------------------------
    def send_error(self, err: Exception) -> SendError:
        return send_error(err)

    async def send(self, item: OutboxItem) -> SendResult:
        api = self.require_api()
        meta = item.meta or {}
        reply_to = meta.get("quote_external_id")
        steps: list[Step] = []

        def step(kind: str, payload: dict[str, Any], quote: Any = None) -> Step:
            async def run() -> str:
                body = envelope(item.chat_id, kind, payload, str(quote) if quote else None)
                return message_id(await api.post(f"{self.phone_number_id}/messages", body))
            return run

        if meta.get("template"):
            steps.append(step("template", template_payload(meta["template"],
                                                           self.template_language), reply_to))
        else:
            for index, part in enumerate(split_text(item.text or "", TEXT_LIMIT)):
                steps.append(step("text", {"body": part}, reply_to if index == 0 else None))
        for name, mime, _size, location in item.attachments:
            steps.append(self._file_step(item.chat_id, str(name), str(mime), str(location)))
        return await self.send_steps(item.message_id, item.attempts, steps)

    def _file_step(self, to: str, name: str, mime: str, location: str) -> Step:
        async def run() -> str:
            api = self.require_api()
            kind, payload = await media_payload(api, self.phone_number_id, name, mime, location)
            body = envelope(to, kind, payload)
            return message_id(await api.post(f"{self.phone_number_id}/messages", body))
        return run
