"""The Viber bot connector: signed callbacks in, ``send_message`` out.

Options: see :class:`connectors.viber.ViberOptions` and ``docs/viber.md``.

On start the connector calls ``set_webhook`` with ``public_url`` +
``/hooks/viber/{channel name}``. Viber first POSTs a signed ``webhook`` event there and
refuses (status 1) unless it gets 200 — the gateway mounts the route before any
connector starts, so it does.

Every callback carries ``X-Viber-Content-Signature``, the hex HMAC-SHA256 of the raw
body keyed with the bot token; it is checked in constant time before the body is
parsed, and a missing or wrong one is refused (401/403) with nothing stored. A callback
is answered 200 only after it is committed; Viber repeats unanswered callbacks (for
about an hour), and a repeat stores nothing twice (the message key is
``message_token``; receipts only move a message's state forward).

``unsubscribed`` is recorded in the store (``viber:{channel id}:unsubscribed:{user}``):
from then on a reply to that user fails at once, permanently, saying why, instead of
being refused by Viber. ``subscribed`` or a new message from the user clears it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import ClassVar

import aiohttp
from aiohttp import web

from connectors.base import (
    FAILED,
    OK,
    STOPPED,
    ChannelSpec,
    Connector,
    ConnectorError,
    IngestFn,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from connectors.media import media_store_for
from connectors.rejections import RejectionLog, is_permanent
from connectors.send_progress import SendProgress
from connectors.viber import ViberOptions, files
from connectors.viber.api import ViberApi, ViberApiError, ViberNetworkError
from connectors.viber.parse import Ignored, NewMessage, Parsed, Receipt, Subscription
from connectors.viber.send import SENDER_NAME_LIMIT, send_item, sender
from connectors.viber.webhook import ViberWebhook
from connectors.webhook_pipeline import webhook_route
from connectors.webhooks import route_path as shared_route_path
from connectors.webhooks import webhook_path as shared_webhook_path
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.ports import ConnectorStore
from storage.rows import OutboxItem

log = logging.getLogger("switchboard.viber")

EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed",
               "conversation_started"]


def webhook_path(channel_name: str) -> str:
    return shared_webhook_path("viber", channel_name)


def route_path(channel_name: str) -> str:
    return shared_route_path("viber", channel_name)


class ViberConnector(Connector):
    kind: ClassVar[str] = "viber"
    options: ViberOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.progress = SendProgress(store, "viber", spec.id)
        self.api: ViberApi | None = None
        self.session: aiohttp.ClientSession | None = None
        self.media = media_store_for(self.options.model_dump())
        self.sender_name = self.options.sender_name
        self.rejections = RejectionLog(log, f"viber {spec.name} callback")

    # ---- lifecycle -----------------------------------------------------------------------
    def webhook_url(self) -> str:
        if self.options.webhook_url:
            return self.options.webhook_url
        if self.options.public_url:
            return self.options.public_url.rstrip("/") + webhook_path(self.spec.name)
        return ""

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.check_config()
        if not self.options.token:
            raise ConnectorError(_("Viber channel {name!r} has no token in its options.")
                                 .format(name=self.spec.name))
        url = self.webhook_url()
        if not url:
            raise ConnectorError(_("Viber delivers messages only to a webhook: set "
                                   "server.public_url (a public https address) or "
                                   "options.webhook_url."))
        self.session = session
        self.api = ViberApi(session, self.options.token, self.options.api_base)
        try:
            if not self.sender_name:
                info = await self.api.get_account_info()
                self.sender_name = str(info.get("name") or self.spec.name)[:SENDER_NAME_LIMIT]
            await self.api.set_webhook(url, EVENT_TYPES)
        except ViberApiError as err:
            raise ConnectorError(_("Viber refused {method} ({status}): {message}").format(
                method=err.method, status=err.status, message=err.message)) from None
        except ViberNetworkError as err:
            raise ConnectorError(str(err)) from None
        log.info("viber %s: webhook set to %s", self.spec.name, url)
        self.set_health(OK, self.sender_name)

    async def stop(self) -> None:
        self.rejections.close()
        if self.health.state != FAILED:
            self.set_health(STOPPED)

    def describe_address(self, base_url: str) -> str:
        return _("Viber webhook for {name}: {url}").format(
            name=self.spec.name, url=self.webhook_url() or f"{base_url}{webhook_path(self.spec.name)}")

    # ---- callbacks -----------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        serve = files.handler(self.options.token, self.spec.id, self.store.get_message)
        steps = ViberWebhook(self.options.token, self.options.max_body_bytes, self.spec.id,
                             self.handle, self.rejections)
        return [webhook_route(route_path(self.spec.name), steps),
                web.get(files.route_pattern(self.spec.id), serve)]

    def _unsubscribed_key(self, user_id: str) -> str:
        return f"viber:{self.spec.id}:unsubscribed:{user_id}"

    async def handle(self, parsed: Parsed) -> None:
        """Commit one callback (returns after commit); see :meth:`VkConnector.handle` for
        why a callback that can never be stored is dropped and others propagate."""
        try:
            if isinstance(parsed, NewMessage):
                await self.ingest(await self._with_files(parsed.inbound))
                await self._set_subscribed(parsed.inbound.sender_id, True, "")
            elif isinstance(parsed, Receipt):
                await asyncio.to_thread(self.store.mark_delivery, self.spec.id,
                                        parsed.message_token, parsed.state, parsed.reason)
            elif isinstance(parsed, Subscription):
                await self._set_subscribed(parsed.user_id, parsed.subscribed, parsed.at)
            elif isinstance(parsed, Ignored) and parsed.reason:
                log.info("viber %s: %s callback ignored: %s", self.spec.name, parsed.event,
                         parsed.reason)
        except Exception as err:
            if not is_permanent(err):
                raise
            log.warning("viber %s: a callback cannot be stored, dropped: %s", self.spec.name,
                        err if isinstance(err, SwitchboardError)
                        else f"{type(err).__name__}: {err}")

    async def _with_files(self, inbound: Inbound) -> Inbound:
        """The files downloaded (Viber's media URLs expire), unless the message is already
        stored and this is a repeat the store will drop."""
        if not inbound.attachments or self.session is None or await asyncio.to_thread(
                self.store.find_message, self.spec.id, inbound.external_id or ""):
            return inbound
        session = self.session
        files = [await self.media.download(session, a.location, name=a.name, mime=a.mime)
                 for a in inbound.attachments]
        return dataclasses.replace(inbound, attachments=tuple(files))

    async def _set_subscribed(self, user_id: str, subscribed: bool, at: str) -> None:
        key = self._unsubscribed_key(user_id)
        if subscribed:
            if await asyncio.to_thread(self.store.get_state, key):
                await asyncio.to_thread(self.store.set_state, key, "")
        else:
            await asyncio.to_thread(self.store.set_state, key, at or "unknown")

    # ---- outbound ------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> SendResult:
        if self.api is None:
            raise TransientSendError(_("The Viber connector is not started."))
        left = await asyncio.to_thread(self.store.get_state, self._unsubscribed_key(item.chat_id))
        if left:
            raise PermanentSendError(_("The client unsubscribed from this Viber bot ({when}); "
                                       "Viber delivers nothing to them until they write "
                                       "again.").format(when=left))
        if any(not size for _n, _m, size, _l in item.attachments):
            item = dataclasses.replace(item, attachments=tuple(
                [await asyncio.to_thread(_with_size, a) for a in item.attachments]))
        envelope = {"receiver": item.chat_id,
                    "sender": sender(self.sender_name, self.options.sender_avatar)}
        return await send_item(self.api, item, envelope, self.progress.load, self.progress.save,
                               lambda index, att: self._link(item.message_id, index, att))

    def _link(self, message_id: int, index: int, attachment: tuple) -> str:
        """Where Viber fetches one file: its own https address, or ours under public_url."""
        name, _mime, _size, location = attachment
        if str(location).startswith("https://"):
            return str(location)
        base = self.options.public_url
        if not base or files.local_path(str(location)) is None:
            raise PermanentSendError(_("Viber takes files only as links, and {name} can be "
                                       "neither linked nor published: set server.public_url."
                                       ).format(name=name))
        return files.file_link(base, self.options.token, self.spec.id, message_id, index,
                               str(name))


def _with_size(attachment: tuple) -> tuple:
    """A local file's size when the attachment does not say (Viber's ``file`` needs it)."""
    name, mime, size, location = attachment
    path = files.local_path(str(location))
    if size or path is None:
        return attachment
    try:
        return name, mime, path.stat().st_size, location
    except OSError:
        return attachment
