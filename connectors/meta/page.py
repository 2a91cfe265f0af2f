"""What Messenger and Instagram Direct share: page-scoped ids, ``/me/messages``, the window.

Send (https://developers.facebook.com/docs/messenger-platform/reference/send-api/ and
the Instagram Messaging API, which takes the same body): ``POST /{version}/me/messages``
with ``{"recipient": {"id"}, "messaging_type": "RESPONSE", "message": {"text"}}``; a
manual reply outside the 24-hour window but within 7 days goes as ``"messaging_type":
"MESSAGE_TAG", "tag": "HUMAN_AGENT"`` (the store puts ``tag`` in the item's meta). The
answer is ``{"recipient_id", "message_id"}``. Files: ``message.attachment = {"type":
image|video|audio|file, "payload": {"url", "is_reusable"}}`` for a link, or multipart
with ``filedata`` for a local file.

Inbound: the :mod:`connectors.meta.messaging` events. A client message's attachments
carry CDN URLs, downloaded through :mod:`connectors.media`. Names come from the
profile (``GET /{psid}``), cached; a failed lookup leaves the name empty.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

from connectors.base import PermanentSendError, SendError, SendResult
from connectors.facebook import FacebookOptions
from connectors.instagram import InstagramOptions
from connectors.meta.connector import MetaConnector, Step
from connectors.meta.graph import GraphApi, GraphError, GraphNetworkError, to_send_error
from connectors.meta.messaging import (
    Deleted,
    Delivered,
    Echo,
    Edited,
    Event,
    Ignored,
    Incoming,
    Read,
    parse_envelope,
)
from connectors.meta.text import split_text
from connectors.quoting import quote_of, with_quote
from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound
from storage.rows import OutboxItem

HUMAN_AGENT = "HUMAN_AGENT"
FILE_TYPES = {"image": "image", "video": "video", "audio": "audio"}
NAME_CACHE = 5_000


class PageConnector(MetaConnector):
    object_name: ClassVar[str]  # "page" / "instagram"
    text_limit: ClassVar[int]
    limit_unit: ClassVar[str]
    window_subcode: ClassVar[int]  # 2018278 Messenger, 2534022 Instagram
    profile_fields: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ("page_access_token", "app_secret", "verify_token",
                                           "page_id")
    options: FacebookOptions | InstagramOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page_id = self.options.page_id
        self._names: dict[str, str] = {}

    def access_token(self) -> str:
        return self.options.page_access_token

    async def check_account(self, api: GraphApi) -> str:
        info = await api.get("me", {"fields": "id,name"})
        return str(info.get("name") or "")

    def own_entry(self, entry_id: str) -> bool:
        """Whether an ``entry`` belongs to this channel (other pages of the app do not)."""
        return True

    # ---- inbound -----------------------------------------------------------------------
    def parse_payload(self, data: Any) -> list[Any]:
        events: list[Any] = []
        for entry_id, event in parse_envelope(data, self.object_name):
            if not self.own_entry(entry_id):
                self.log.info("%s %s: event for another account %s skipped", self.kind,
                              self.spec.name, entry_id)
                continue
            events.append(event)
        return events

    async def store_payload(self, events: list[Any]) -> None:
        for event in events:
            await self.handle_event(event)

    async def handle_event(self, event: Event) -> None:
        if isinstance(event, Incoming):
            if event.attachments and await self.known(event.mid):
                return  # a repeated delivery: no second download
            inbound = await self._inbound(event)
            await self.guarded(f"message {event.mid}", self.ingest(inbound))
        elif isinstance(event, Edited):
            found = await asyncio.to_thread(self.store.edit_inbound, self.spec.id, event.mid,
                                            event.text)
            if found is None:
                self.log.info("%s %s: edit of an unknown message %s", self.kind,
                              self.spec.name, event.mid)
        elif isinstance(event, Delivered | Read):
            await self.receipt(event)
        elif isinstance(event, Echo):
            self.log.debug("%s %s: echo of %s", self.kind, self.spec.name, event.mid)
        elif isinstance(event, Deleted):
            await self.deleted(event)
        elif isinstance(event, Ignored):
            self.log.info("%s %s: event ignored: %s", self.kind, self.spec.name, event.reason)

    async def receipt(self, event: Delivered | Read) -> None:
        raise NotImplementedError

    async def deleted(self, event: Deleted) -> None:
        """The client unsent a message: marked deleted (its text stays for the team)."""
        found = await asyncio.to_thread(self.store.mark_inbound_deleted, self.spec.id,
                                        event.mid)
        self.log.info("%s %s: the client unsent %s%s", self.kind, self.spec.name, event.mid,
                      "" if found is not None else " (unknown message)")

    async def _inbound(self, event: Incoming) -> Inbound:
        attachments: list[AttachmentIn] = []
        texts = [event.text] if event.text else []
        for att in event.attachments:
            if att.url:
                attachments.append(await self._download(att.kind, att.url))
            else:
                texts.append(_("[{kind} attachment: {title}]").format(
                    kind=att.kind, title=att.title or "-"))
        return Inbound(channel_id=self.spec.id, chat_id=event.sender, sender_id=event.sender,
                       text="\n".join(texts), external_id=event.mid, sent_at=event.sent_at,
                       display_name=await self.name_of(event.sender),
                       attachments=tuple(attachments),
                       reply_to_external_id=event.data.get("reply_to") or None)

    async def _download(self, kind: str, url: str) -> AttachmentIn:
        assert self.session is not None
        name = Path(url.split("?")[0]).name
        name = name if Path(name).suffix else kind  # CDN paths may carry no file name
        mime = mimetypes.guess_type(name)[0] or ""
        # Meta's CDN URLs are signed themselves: no token goes with them.
        return await self.media.download(self.session, url, name=name, mime=mime)

    async def name_of(self, user_id: str) -> str:
        if user_id in self._names:
            return self._names[user_id]
        try:
            profile = await self.require_api().get(user_id, {"fields": self.profile_fields})
        except (GraphError, GraphNetworkError) as err:
            self.log.info("%s %s: no profile for %s: %s", self.kind, self.spec.name, user_id,
                          err)
            return ""
        name = " ".join(str(profile[k]) for k in ("first_name", "last_name", "name")
                        if profile.get(k)) or str(profile.get("username") or "")
        if len(self._names) >= NAME_CACHE:
            self._names.clear()
        self._names[user_id] = name
        return name

    # ---- outbound ----------------------------------------------------------------------
    def send_error(self, err: Exception) -> SendError:
        if isinstance(err, GraphError) and err.code == 10 and err.subcode == self.window_subcode:
            return PermanentSendError(_(
                "{title} allows replies only within 24 hours of the client's last message "
                "(7 days for a manual reply with the human agent tag). ({detail})").format(
                    title=self.title, detail=err.reason))
        return to_send_error(err)

    def _base_body(self, item: OutboxItem) -> dict[str, Any]:
        meta = item.meta or {}
        body: dict[str, Any] = {"recipient": {"id": item.chat_id}, "messaging_type": "RESPONSE"}
        if meta.get("tag") == HUMAN_AGENT:
            body.update(messaging_type="MESSAGE_TAG", tag=HUMAN_AGENT)
        return body

    async def send(self, item: OutboxItem) -> SendResult:
        api = self.require_api()
        base = self._base_body(item)
        steps: list[Step] = []

        def step(message: dict[str, Any]) -> Step:
            async def run() -> str:
                return _mid(await api.post("me/messages", {**base, "message": message}))
            return run

        parts = split_text(item.text or "", self.text_limit, self.limit_unit)
        if parts:  # the Send API has no reply field for pages: the quoted line instead
            parts[0] = with_quote(parts[0], quote_of(item.meta), self.text_limit,
                                  self.limit_unit)
        for part in parts:
            steps.append(step({"text": part}))
        for name, mime, _size, location in item.attachments:
            steps.append(self._file_step(base, str(name), str(mime), str(location)))
        return await self.send_steps(item.message_id, item.attempts, steps)

    def _file_step(self, base: dict[str, Any], name: str, mime: str, location: str) -> Step:
        kind = FILE_TYPES.get(mime.split("/")[0], "file")

        async def run() -> str:
            api = self.require_api()
            if location.startswith(("http://", "https://")):
                message = {"attachment": {"type": kind, "payload": {"url": location,
                                                                     "is_reusable": True}}}
                return _mid(await api.post("me/messages", {**base, "message": message}))
            path = Path(location.removeprefix("file://")).expanduser()
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as err:
                raise PermanentSendError(_("The attachment {name} cannot be read: {error}")
                                         .format(name=name, error=err.strerror or err)) from err
            form = aiohttp.FormData(quote_fields=False)
            for key, value in base.items():
                form.add_field(key, value if isinstance(value, str) else json.dumps(value))
            form.add_field("message", json.dumps({"attachment": {"type": kind, "payload": {
                "is_reusable": True}}}))
            form.add_field("filedata", data, filename=name or path.name,
                           content_type=mime or "application/octet-stream")
            return _mid(await api.post("me/messages", form=form))
        return run


def _mid(answer: dict[str, Any]) -> str:
    mid = answer.get("message_id")
    if isinstance(mid, str) and mid:
        return mid
    raise GraphError(200, 0, _("Meta answered without a message id."))

