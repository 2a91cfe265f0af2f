"""The Telegram bot connector: long polling or a webhook in, the Bot API out.

Options (``channels[].options`` in the config file):

``token``            the bot token from @BotFather (required; never logged: shown as ``123:***``)
``mode``             ``polling`` (default) or ``webhook``
``api_base``         Bot API base URL (default ``https://api.telegram.org``; a local Bot API
                     server or the tests' fake)
``webhook_url``      the public address Telegram posts to; default ``public_url`` +
                     ``/hooks/telegram/{channel name}``
``public_url``       the server's public base URL (the gateway passes ``server.public_url``)
``webhook_secret``   the ``secret_token``; default: derived from the token and channel name,
                     so it is stable across restarts
``poll_timeout``     long-poll seconds (default 25); an empty answer that comes back sooner
                     than :data:`EMPTY_POLL_INTERVAL` is followed by a pause, so a server
                     that does not hold polls is asked once a second, not in a busy loop
``conflict_limit``   409 conflicts in a row before polling stops and reports (default 5)
``backoff_initial`` / ``backoff_max``   seconds between retries after errors (1 / 60)
``max_body_bytes``   webhook body cap (default 1 MiB)
``media_dir`` / ``max_media_bytes``   where clients' files are downloaded, and the cap
                     (default: the user data dir, 25 MiB; Telegram itself stops at 20 MB)

Why the offset lives in the database: Telegram forgets an update once ``getUpdates`` is
called with a higher offset. The offset is written only after the batch is committed,
so a crash re-fetches at worst a batch whose messages are already stored (the store is
idempotent on ``chat:message_id``) and never skips one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
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
from connectors.send_progress import SendProgress
from connectors.telegram import TelegramOptions
from connectors.telegram.api import (
    BotApi,
    TelegramApiError,
    TelegramNetworkError,
    mask,
    mask_token,
    sleep_or_stop,
)
from connectors.telegram.files import with_files
from connectors.telegram.hook import SECRET_HEADER, derived_secret, route_path, webhook_path
from connectors.telegram.parse import (
    ALLOWED_UPDATES,
    EditedMessage,
    Ignored,
    NewMessage,
    ParsedUpdate,
    ParseError,
    parse_update,
    valid_secret_token,
)
from connectors.telegram.send import send_item
from connectors.telegram.webhook import TelegramWebhook
from connectors.webhook_pipeline import webhook_route
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.ports import ConnectorStore
from storage.rows import OutboxItem

log = logging.getLogger("switchboard.telegram")

# Empty polls start at least this many seconds apart (Telegram itself holds a poll for
# poll_timeout seconds, so this only paces servers that answer at once).
EMPTY_POLL_INTERVAL = 1.0

__all__ = ["TelegramConnector", "SECRET_HEADER", "derived_secret", "route_path", "webhook_path"]


class TelegramConnector(Connector):
    kind: ClassVar[str] = "telegram"
    can_write_first: ClassVar[bool] = False  # a bot cannot open a conversation

    options: TelegramOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.progress = SendProgress(store, "telegram", spec.id)
        opts = self.options
        self.token = opts.token
        self.mode = opts.mode
        self.api_base = opts.api_base or None
        self.poll_timeout = int(opts.poll_timeout)
        self.conflict_limit = opts.conflict_limit
        self.backoff_initial = opts.backoff_initial
        self.backoff_max = opts.backoff_max
        self.max_body = opts.max_body_bytes
        self.secret = opts.webhook_secret or (
            derived_secret(self.token, spec.name) if self.token else "")
        self.offset_key = f"telegram:{spec.id}:offset"
        self.media = media_store_for(opts.model_dump(include={"media_dir", "max_media_bytes"}))
        self.api: BotApi | None = None
        self.bot: dict[str, Any] = {}
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._fatal: ConnectorError | None = None
        self._offset = 0
        self.rejections = RejectionLog(log, f"telegram {spec.name} webhook")

    # ---- lifecycle -----------------------------------------------------------------------
    def _masked(self, text: str) -> str:
        return mask_token(text, self.token)

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Check the token with getMe, then start polling or register the webhook."""
        self.check_config()
        if not self.token:
            raise ConnectorError(_("Telegram channel {name!r} has no token in its options.")
                                 .format(name=self.spec.name))
        if not valid_secret_token(self.secret):
            raise ConnectorError(_("The Telegram webhook secret must be 1-256 characters "
                                   "from A-Z, a-z, 0-9, _ and -."))
        self._stop = asyncio.Event()
        self._fatal = None
        self.api = BotApi(session, self.token, self.api_base)
        try:
            self.bot = await self.api.get_me()
        except TelegramApiError as err:
            if err.error_code == 401:
                raise ConnectorError(self._masked(_(
                    "Telegram rejected the bot token (401 Unauthorized): {description}. "
                    "The token {token} was revoked or mistyped; get a new one from @BotFather."
                ).format(description=err.description, token=mask(self.token)))) from None
            raise ConnectorError(self._masked(_("Telegram refused getMe ({code}): {description}")
                                              .format(code=err.error_code,
                                                      description=err.description))) from None
        except TelegramNetworkError as err:
            raise ConnectorError(str(err)) from None
        username = str((self.bot or {}).get("username") or "")
        if self.mode == "webhook":
            await self._set_webhook()
        else:
            self._poller = asyncio.create_task(self._poll_loop(),
                                               name=f"telegram-poll-{self.spec.name}")
        self.set_health(OK, f"@{username}" if username else "")

    async def stop(self) -> None:
        self._stop.set()
        task, self._poller = self._poller, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.rejections.close()
        if self.health.state != FAILED:  # keep the reason of a failure visible
            self.set_health(STOPPED)

    async def run(self) -> None:
        """Wait for the poller; raise ConnectorError when it gave up (the gateway restarts
        the connector with backoff). In webhook mode there is nothing to wait for."""
        task = self._poller
        if task is not None:
            await asyncio.wait([task])  # cancelling run() leaves the poller to stop()
        if self._fatal is not None:
            raise self._fatal

    async def _set_webhook(self) -> None:
        assert self.api is not None
        url = self.options.webhook_url or ""
        if not url and self.options.public_url:
            url = self.options.public_url.rstrip("/") + webhook_path(self.spec.name)
        if not url:
            raise ConnectorError(_("Telegram webhook mode needs options.webhook_url or the "
                                   "server's public_url."))
        try:
            await self.api.set_webhook(url, self.secret, list(ALLOWED_UPDATES))
        except (TelegramApiError, TelegramNetworkError) as err:
            raise ConnectorError(self._masked(_("Telegram refused setWebhook: {error}")
                                              .format(error=err))) from None
        log.info("telegram %s: webhook set to %s", self.spec.name, url)

    # ---- long polling --------------------------------------------------------------------
    def _backoff(self, failures: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2 ** max(failures - 1, 0)))
        return base * random.uniform(0.8, 1.2)

    async def _poll_loop(self) -> None:
        assert self.api is not None
        self._offset = int(await asyncio.to_thread(self.store.get_state, self.offset_key, "0")
                           or 0)
        conflicts = failures = 0
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            started = loop.time()
            try:
                updates = await self.api.get_updates(self._offset or None, 100, self.poll_timeout,
                                                     list(ALLOWED_UPDATES))
            except TelegramApiError as err:
                failures += 1
                if err.error_code == 409:
                    conflicts += 1
                    if conflicts >= self.conflict_limit:
                        self._give_up(_("Telegram polling stopped after {n} conflicts: "
                                        "{description}. Another copy of this bot is polling, "
                                        "or a webhook is set.").format(
                                            n=conflicts, description=err.description))
                        return
                    self.set_health(DEGRADED, _("Telegram conflict: {description}").format(
                        description=err.description))
                elif err.error_code == 401:
                    self._give_up(_("Telegram rejected the bot token (401 Unauthorized): "
                                    "{description}").format(description=err.description))
                    return
                else:
                    self.set_health(DEGRADED, _("Telegram getUpdates failed ({code}): "
                                                "{description}").format(
                                                    code=err.error_code,
                                                    description=err.description))
                wait = err.retry_after if err.retry_after is not None else self._backoff(failures)
                log.warning("telegram %s: %s", self.spec.name, self._masked(str(err)))
                if await sleep_or_stop(self._stop, wait):
                    return
                continue
            except TelegramNetworkError as err:
                failures += 1
                self.set_health(DEGRADED, str(err))
                log.warning("telegram %s: %s", self.spec.name, err)
                if await sleep_or_stop(self._stop, self._backoff(failures)):
                    return
                continue
            if failures:
                self.set_health(OK, f"@{self.bot.get('username', '')}")
            conflicts = failures = 0
            if not updates:
                # A server that answers at once instead of holding the poll (a local Bot
                # API server, a proxy, an emulator) must not turn this into a busy loop.
                rest = EMPTY_POLL_INTERVAL - (loop.time() - started)
                if rest > 0 and await sleep_or_stop(self._stop, rest):
                    return
                continue
            try:
                await self._commit_batch(updates)
            except Exception as err:  # the store failed: keep the offset, retry the batch
                failures += 1
                self.set_health(DEGRADED, _("Cannot store Telegram updates: {error}").format(
                    error=err))
                log.exception("telegram %s: storing updates failed", self.spec.name)
                if await sleep_or_stop(self._stop, self._backoff(failures)):
                    return

    def _give_up(self, detail: str) -> None:
        detail = self._masked(detail)
        log.error("telegram %s: %s", self.spec.name, detail)
        self._fatal = ConnectorError(detail)
        self.set_health(FAILED, detail)

    async def _commit_batch(self, updates: list[Any]) -> None:
        """Store every update in order; persist the new offset once all are committed.

        On a store failure the offset stays at the first update not committed."""
        start = offset = self._offset
        try:
            for raw in sorted(updates, key=_update_order):
                update_id = raw.get("update_id") if isinstance(raw, dict) else None
                if isinstance(update_id, int) and update_id < offset:
                    continue  # already confirmed: Telegram should not send it again
                try:
                    parsed = parse_update(raw, self.spec.id)
                except ParseError as err:
                    log.warning("telegram %s: skipped a malformed update: %s", self.spec.name, err)
                    if err.update_id is not None:
                        offset = max(offset, err.update_id + 1)
                    continue
                await self.handle(parsed)
                offset = max(offset, parsed.update_id + 1)
        finally:
            self._offset = offset
            if offset != start:
                await asyncio.to_thread(self.store.set_state, self.offset_key, str(offset))

    async def handle(self, parsed: ParsedUpdate) -> None:
        """Commit one parsed update (returns after commit). A message that can never be
        stored (:func:`is_permanent`: a domain refusal, or the database refusing its
        content) is logged and dropped: retrying it would never succeed, and would hold
        every later update back. Other errors (the store unavailable) propagate, so the
        poller retries the batch and the webhook answers 500."""
        try:
            if isinstance(parsed, NewMessage):
                await self.ingest(await with_files(self.api, self.media, self.store,
                                                   parsed.inbound))
            elif isinstance(parsed, EditedMessage):
                found = await asyncio.to_thread(self.store.edit_inbound, self.spec.id,
                                                parsed.external_id, parsed.text)
                if found is None:  # the original predates us: keep the edited text
                    await self.ingest(await with_files(self.api, self.media, self.store,
                                                       parsed.inbound))
            elif isinstance(parsed, Ignored):
                log.info("telegram %s: update %s ignored: %s %s", self.spec.name,
                         parsed.update_id, parsed.reason, ", ".join(parsed.kinds))
        except Exception as err:
            if not is_permanent(err):
                raise
            log.warning("telegram %s: update %s cannot be stored, dropped: %s", self.spec.name,
                        parsed.update_id, err if isinstance(err, SwitchboardError)
                        else f"{type(err).__name__}: {err}")

    # ---- webhook -------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        """The webhook route, in webhook mode only (a poller has nothing to receive)."""
        if self.mode != "webhook":
            return []
        steps = TelegramWebhook(self.secret, self.max_body, self.spec.id, self.handle,
                                self.rejections)
        return [webhook_route(route_path(self.spec.name), steps)]

    # ---- outbound ------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> SendResult:
        if self.api is None:
            raise TransientSendError(_("The Telegram connector is not started."))
        return await send_item(self.api, item, self.progress.load, self.progress.save)


def _update_order(raw: Any) -> int:
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    return update_id if isinstance(update_id, int) else -1
