"""The VK community connector: the Callback API or Bots Long Poll in, messages.send out.

Options: see :class:`connectors.vk.VkOptions` and ``docs/vk.md``.

Callback API (https://dev.vk.com/ru/api/callback/getting-started): VK POSTs one event
as JSON to ``/hooks/vk/{channel name}``, served by the shared webhook pipeline with VK's
steps (:mod:`connectors.vk.callback`):

* the body's ``secret`` is compared in constant time with the configured one; a wrong
  or missing secret (or another community's ``group_id``) is answered 403 and stores
  nothing;
* ``confirmation`` is answered with the configured confirmation string;
* every other event is answered with the plain text ``ok`` — only after it is
  committed. VK repeats an event until it gets ``ok`` (``X-Retry-Counter``); repeats
  carry the same ``event_id`` and are answered ``ok`` without a second store (the
  store is idempotent on the message key as well, so a repeat after a restart stores
  nothing either). A store that is briefly unavailable gets 500, so VK repeats.

Names: events carry only ``from_id``; ``users.get`` gives the name, cached in memory
(a failed lookup never holds a message back: it is stored without a name).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
from collections import OrderedDict
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from connectors.base import (
    DEGRADED,
    FAILED,
    OK,
    STOPPED,
    ChannelSpec,
    Connector,
    ConnectorError,
    IngestFn,
    SendResult,
    TransientSendError,
)
from connectors.media import media_store_for
from connectors.rejections import RejectionLog, is_permanent
from connectors.vk import VkOptions
from connectors.vk.api import VkApi, VkApiError, VkNetworkError
from connectors.vk.callback import VkCallback
from connectors.vk.longpoll import LongPoller
from connectors.vk.parse import EditedMessage, NewMessage, Parsed, ParseError, parse_event
from connectors.vk.send import RANDOM_ID_MODULUS, send_item
from connectors.webhook_pipeline import webhook_route
from connectors.webhooks import route_path as shared_route_path
from connectors.webhooks import webhook_path as shared_webhook_path
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.ports import ConnectorStore
from storage.rows import OutboxItem

log = logging.getLogger("switchboard.vk")

NAME_CACHE = 10_000
SEEN_EVENTS = 10_000


def webhook_path(channel_name: str) -> str:
    return shared_webhook_path("vk", channel_name)


def route_path(channel_name: str) -> str:
    return shared_route_path("vk", channel_name)


class VkConnector(Connector):
    kind: ClassVar[str] = "vk"
    options: VkOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.api: VkApi | None = None
        self.session: aiohttp.ClientSession | None = None
        self.media = media_store_for(self.options.model_dump())
        self.salt: int | None = None
        self._names: OrderedDict[int, str] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._fatal: BaseException | None = None
        self.rejections = RejectionLog(log, f"vk {spec.name} callback")

    # ---- lifecycle -----------------------------------------------------------------------
    def _check_options(self) -> None:
        self.check_config()
        o = self.options
        if not o.access_token:
            raise ConnectorError(_("VK channel {name!r} has no access_token in its options.")
                                 .format(name=self.spec.name))
        if o.mode == "callback" and (not o.confirmation or not o.secret):
            raise ConnectorError(_("VK callback mode needs options.confirmation and "
                                   "options.secret (Manage community → API usage → Callback "
                                   "API)."))
        if o.mode == "longpoll" and not o.group_id:
            raise ConnectorError(_("VK long poll mode needs options.group_id."))

    async def start(self, session: aiohttp.ClientSession) -> None:
        self._check_options()
        self._stop = asyncio.Event()
        self._fatal = None
        self.session = session
        self.api = VkApi(session, self.options.access_token, self.options.api_base,
                         self.options.api_version)
        self.salt = await asyncio.to_thread(self._load_salt)
        if self.options.mode == "longpoll":
            assert self.options.group_id is not None
            poller = LongPoller(self.api, self.store, self.spec.id, self.options.group_id,
                                self._handle_batch, self._report, self._stop,
                                wait=self.options.poll_wait,
                                backoff_initial=self.options.backoff_initial,
                                backoff_max=self.options.backoff_max)
            self._poller = asyncio.create_task(self._poll(poller), name=f"vk-poll-{self.spec.name}")
        self.set_health(OK, self.options.mode)

    def _load_salt(self) -> int:
        """The channel's random_id salt, drawn once per database (see ``send.py``)."""
        key = f"vk:{self.spec.id}:random_id_salt"
        kept = self.store.get_state(key)
        if kept and kept.isdigit():
            return int(kept)
        salt = secrets.randbelow(RANDOM_ID_MODULUS)
        self.store.set_state(key, str(salt))
        return salt

    async def _poll(self, poller: LongPoller) -> None:
        try:
            await poller.run()
        except ConnectorError as err:
            self._fatal = err
            self.set_health(FAILED, str(err))

    def _report(self, state: str, detail: str) -> None:
        self.set_health(DEGRADED if state == "degraded" else OK, detail or self.options.mode)

    async def stop(self) -> None:
        self._stop.set()
        task, self._poller = self._poller, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.rejections.close()
        if self.health.state != FAILED:
            self.set_health(STOPPED)

    async def run(self) -> None:
        task = self._poller
        if task is not None:
            await asyncio.wait([task])
        if self._fatal is not None:
            raise self._fatal

    def describe_address(self, base_url: str) -> str:
        if self.options.mode != "callback":
            return ""
        return _("VK Callback API for {name}: {url}").format(
            name=self.spec.name, url=f"{base_url}{webhook_path(self.spec.name)}")

    # ---- inbound -------------------------------------------------------------------------
    async def _name_of(self, user_id: int) -> str:
        if user_id <= 0 or self.api is None:  # a community writes as a negative id
            return ""
        if user_id in self._names:
            self._names.move_to_end(user_id)
            return self._names[user_id]
        try:
            users = await self.api.users_get([user_id])
        except (VkApiError, VkNetworkError) as err:
            log.warning("vk %s: users.get(%s) failed: %s", self.spec.name, user_id, err)
            return ""
        found = next((u for u in users if u.get("id") == user_id), {})
        name = " ".join(str(found.get(k) or "") for k in ("first_name", "last_name")).strip()
        self._names[user_id] = name
        while len(self._names) > NAME_CACHE:
            self._names.popitem(last=False)
        return name

    async def _complete(self, inbound: Inbound) -> Inbound:
        """The sender's name added and the files downloaded (VK's URLs expire) — unless
        the message is already stored, when this is a repeat the store will drop."""
        if await asyncio.to_thread(self.store.find_message, self.spec.id,
                                   inbound.external_id or ""):
            return inbound
        name = await self._name_of(int(inbound.sender_id))
        files = inbound.attachments
        if files and self.session is not None:
            session = self.session
            files = tuple([await self.media.download(session, a.location, name=a.name,
                                                     mime=a.mime) for a in files])
        return dataclasses.replace(inbound, display_name=name or inbound.display_name,
                                   attachments=files)

    async def handle(self, parsed: Parsed) -> None:
        """Commit one parsed event (returns after commit). An event that can never be
        stored is logged and dropped (retrying it would never succeed); other errors
        propagate so VK repeats the event."""
        try:
            if isinstance(parsed, NewMessage):
                await self.ingest(await self._complete(parsed.inbound))
            elif isinstance(parsed, EditedMessage):
                found = await asyncio.to_thread(self.store.edit_inbound, self.spec.id,
                                                parsed.external_id, parsed.text)
                if found is None:  # the original predates us: keep the edited text
                    await self.ingest(await self._complete(parsed.inbound))
            else:
                log.info("vk %s: event %s (%s) ignored: %s", self.spec.name, parsed.event_id,
                         parsed.kind, parsed.reason)
        except Exception as err:
            if not is_permanent(err):
                raise
            log.warning("vk %s: event %s cannot be stored, dropped: %s", self.spec.name,
                        parsed.event_id, err if isinstance(err, SwitchboardError)
                        else f"{type(err).__name__}: {err}")

    def _remember(self, event_id: str) -> None:
        if event_id:
            self._seen[event_id] = None
            while len(self._seen) > SEEN_EVENTS:
                self._seen.popitem(last=False)

    async def _handle_batch(self, events: list[Any]) -> None:
        for event in events:
            event_id = str(event.get("event_id") or "") if isinstance(event, dict) else ""
            if event_id and event_id in self._seen:
                continue
            try:
                parsed = parse_event(event, self.spec.id)
            except ParseError as err:
                log.warning("vk %s: skipped a malformed event: %s", self.spec.name, err)
                continue
            await self.handle(parsed)
            self._remember(event_id)

    # ---- Callback API --------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        if self.options.mode != "callback":
            return []
        o = self.options
        steps = VkCallback(o.secret, o.group_id, o.confirmation, o.max_body_bytes, self.spec.id,
                           self.handle, self._seen.__contains__, self._remember,
                           self.rejections)
        return [webhook_route(route_path(self.spec.name), steps)]

    # ---- outbound ------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> SendResult:
        if self.api is None or self.salt is None:
            raise TransientSendError(_("The VK connector is not started."))
        return await send_item(self.api, item, self.salt, self._get_uploaded,
                               self._set_uploaded)

    def _uploads_key(self, message_id: int) -> str:
        return f"vk:{self.spec.id}:uploads:{message_id}"

    async def _get_uploaded(self, message_id: int) -> list[str]:
        kept = await asyncio.to_thread(self.store.get_state, self._uploads_key(message_id))
        try:
            found = json.loads(kept) if kept else []
        except ValueError:
            return []
        return [str(a) for a in found] if isinstance(found, list) else []

    async def _set_uploaded(self, message_id: int, uploaded: list[str]) -> None:
        await asyncio.to_thread(self.store.set_state, self._uploads_key(message_id),
                                json.dumps(uploaded) if uploaded else "")
