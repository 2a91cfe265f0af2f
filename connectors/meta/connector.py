"""The base of the three Meta connectors: options, routes, the webhook, sends.

Webhook (``GET`` and ``POST /hooks/{kind}/{channel name}``):

1. ``GET``: the verification handshake (:func:`connectors.meta.hook.handshake`).
2. ``POST``: the shared pipeline with Meta's steps (:mod:`connectors.meta.webhook`):
   the signature over the raw bytes, then :meth:`MetaConnector.parse_payload` (a
   foreign body → 400), then :meth:`MetaConnector.store_payload` stores every event;
   only then 200. A store that is briefly unavailable → 500, and Meta delivers the
   batch again (for days on WhatsApp); the store is idempotent on the platform's
   message id. An event that can never be stored
   (:func:`connectors.rejections.is_permanent`) is logged and skipped so it cannot hold
   back the rest.

Sends: a reply longer than the platform's limit becomes several calls; the ids already
sent are kept in the store's state table so a retry after a failure in the middle
continues where it stopped instead of repeating parts (Meta has no idempotency key).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from connectors.base import (
    OK,
    STOPPED,
    ChannelSpec,
    Connector,
    ConnectorError,
    IngestFn,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)
from connectors.facebook import FacebookOptions
from connectors.instagram import InstagramOptions
from connectors.media import media_store_for
from connectors.meta.graph import GraphApi, GraphError, GraphNetworkError, to_send_error
from connectors.meta.hook import handshake, route_path, webhook_path
from connectors.meta.webhook import MetaWebhook
from connectors.rejections import RejectionLog, is_permanent
from connectors.send_progress import SendProgress
from connectors.webhook_pipeline import webhook_route
from connectors.whatsapp import WhatsAppOptions
from storage.events import MESSAGE_UPDATED, Event
from storage.i18n import _
from storage.ports import ConnectorStore

log = logging.getLogger("switchboard.meta")

Step = Callable[[], Awaitable[str]]
SENT_WAIT = 10.0  # seconds a report about our own fresh reply waits for its id
RECENT_SENDS = 1_000


class MetaConnector(Connector):
    kind: ClassVar[str]
    title: ClassVar[str]
    required: ClassVar[tuple[str, ...]]  # options that must not be empty
    options: WhatsAppOptions | FacebookOptions | InstagramOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.progress = SendProgress(store, self.kind, spec.id)
        opts = self.options
        self.token = self.access_token()
        self.app_secret = opts.app_secret
        self.verify_token = opts.verify_token
        self.max_body = opts.max_body_bytes
        self.media = media_store_for(opts.model_dump(include={"media_dir", "max_media_bytes"}))
        self.api: GraphApi | None = None
        self.session: aiohttp.ClientSession | None = None
        self.log = logging.getLogger(f"switchboard.{self.kind}")
        self.rejections = RejectionLog(self.log, f"{self.kind} {spec.name} webhook")
        self._recent: OrderedDict[str, None] = OrderedDict()  # ids our sends got back
        self._updated = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------
    def access_token(self) -> str:
        """The Graph API token: ``access_token`` (WhatsApp) or ``page_access_token``."""
        raise NotImplementedError

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.check_config()
        missing = [key for key in self.required if not getattr(self.options, key)]
        if missing:
            raise ConnectorError(_("{title} channel {name!r} is missing options: {keys}.")
                                 .format(title=self.title, name=self.spec.name,
                                         keys=", ".join(missing)))
        self.session = session
        self._loop = asyncio.get_running_loop()
        self._updated = asyncio.Event()
        if self._unsubscribe is None:
            self._unsubscribe = self.store.bus.subscribe(self._on_store_event)
        self.api = GraphApi(session, self.token, self.options.api_base,
                            self.options.api_version)
        try:
            detail = await self.check_account(self.api)
        except GraphError as err:
            raise ConnectorError(_("{title} refused the account check: {reason}").format(
                title=self.title, reason=err.reason)) from None
        except GraphNetworkError as err:
            raise ConnectorError(str(err)) from None
        self.set_health(OK, detail)

    async def check_account(self, api: GraphApi) -> str:
        """One cheap call proving the token works; returns a health detail."""
        return ""

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.rejections.close()
        if self.health.state != STOPPED:
            self.set_health(STOPPED)

    # ---- webhook -------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        path = route_path(self.kind, self.spec.name)
        steps = MetaWebhook(self.app_secret, self.max_body, self.parse_payload,
                            self.store_payload, self.rejections)
        return [web.get(path, self._verify), webhook_route(path, steps)]

    def describe_address(self, base_url: str) -> str:
        return _("{title} webhook ({name}): {url}").format(
            title=self.title, name=self.spec.name,
            url=base_url.rstrip("/") + webhook_path(self.kind, self.spec.name))

    async def _verify(self, request: web.Request) -> web.Response:
        response = handshake(request, self.verify_token)
        if response.status != 200:
            self.rejections.reject(_("Verification with a wrong verify_token."), 403,
                                   request.remote)
        return response

    def parse_payload(self, data: Any) -> list[Any]:
        """The events one webhook body carries, for this channel; raise
        :class:`connectors.meta.messaging.ParseError` for a foreign body."""
        raise NotImplementedError

    async def store_payload(self, events: list[Any]) -> None:
        """Store the events of one body (returns after commit)."""
        raise NotImplementedError

    async def guarded(self, what: str, action: Awaitable[Any]) -> None:
        """Run one store action; an event that can never be stored is logged and skipped,
        anything else (the store unavailable) propagates so the webhook answers 500."""
        try:
            await action
        except Exception as err:
            if not is_permanent(err):
                raise
            self.log.warning("%s %s: %s cannot be stored, skipped: %s", self.kind,
                             self.spec.name, what, err)

    async def known(self, external_id: str) -> bool:
        """Whether this channel already stored a message with this id."""
        return await asyncio.to_thread(self.store.find_message, self.spec.id,
                                       external_id) is not None

    async def mark(self, external_id: str, state: str, reason: str = "") -> int | None:
        """Apply a delivery report. A report about a reply this process just sent can
        arrive before the outbox recorded the reply's id (Meta posts a ``failed`` status
        while the send's answer is still on its way): it waits for that, briefly, on the
        store's ``message.updated`` events instead of losing the report."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SENT_WAIT
        while True:
            self._updated.clear()
            found = await asyncio.to_thread(self.store.mark_delivery, self.spec.id,
                                            external_id, state, reason)
            remaining = deadline - loop.time()
            if found is not None or external_id not in self._recent or remaining <= 0:
                return found
            try:
                async with asyncio.timeout(remaining):
                    await self._updated.wait()
            except TimeoutError:
                pass

    def _on_store_event(self, event: Event) -> None:
        if event.kind == MESSAGE_UPDATED and self._loop is not None:
            self._loop.call_soon_threadsafe(self._updated.set)

    def _remember(self, external_id: str) -> None:
        self._recent[external_id] = None
        while len(self._recent) > RECENT_SENDS:
            self._recent.popitem(last=False)

    # ---- outbound ------------------------------------------------------------------------
    async def send_steps(self, message_id: int, attempts: int, steps: list[Step]) -> SendResult:
        """Run each send call in order; resume after the parts a failed attempt sent."""
        if not steps:
            raise PermanentSendError(_("Nothing to send: the message is empty."))
        several = len(steps) > 1
        ids: list[str] = []
        if several and attempts > 1:
            ids = await self.progress.load(message_id)
        for index, step in enumerate(steps[len(ids):], start=len(ids)):
            try:
                ids.append(await step())
                self._remember(ids[-1])
            except (GraphError, GraphNetworkError) as err:
                raise self.send_error(err) from err
            if several and index < len(steps) - 1:
                await self.progress.save(message_id, ids)
        if several:
            await self.progress.save(message_id, [])
        return SendResult(external_id=ids[0], extra_ids=tuple(ids[1:]))

    def send_error(self, err: Exception) -> SendError:
        """The outbox's class for one failed call (platforms rewrite their window codes)."""
        return to_send_error(err)

    def require_api(self) -> GraphApi:
        if self.api is None:
            raise TransientSendError(_("The {title} connector is not started.").format(
                title=self.title))
        return self.api
