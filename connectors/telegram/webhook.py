"""Telegram's webhook steps in the shared pipeline (:mod:`connectors.webhook_pipeline`).

The secret header is checked before the body is read; 200 ``{"ok": true}`` only after
commit. Every refusal is answered ``{"ok": false, "error": reason}`` and logged
(rate-limited; the secret and the body never are). Store failures: Telegram redelivers
*any* non-2xx answer and holds the bot's later updates back meanwhile, so a 4xx would
not stop a poison update; an update that can never be stored is therefore dropped by
:meth:`TelegramConnector.handle <connectors.telegram.connector.TelegramConnector.handle>`
and answered 200. A store that is briefly unavailable gets 500: Telegram delivers the
update again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.rejections import RejectionLog
from connectors.telegram.hook import SECRET_HEADER, json_error
from connectors.telegram.parse import ParsedUpdate, ParseError, check_secret, parse_update
from connectors.webhook_pipeline import Refused, WebhookSteps, missing_header, wrong_header
from storage.i18n import _


class TelegramWebhook(WebhookSteps[ParsedUpdate]):
    def __init__(self, secret: str, max_body: int, channel_id: int,
                 handle: Callable[[ParsedUpdate], Awaitable[None]],
                 rejections: RejectionLog) -> None:
        self.secret = secret
        self.max_body = max_body
        self.channel_id = channel_id
        self.handle = handle
        self.rejections = rejections

    def check_headers(self, request: web.Request) -> None:
        got = request.headers.get(SECRET_HEADER)
        if got is None:
            raise missing_header(SECRET_HEADER)
        if not check_secret(self.secret, got):
            raise wrong_header(SECRET_HEADER)

    def too_large(self, cap: int) -> Refused:
        return Refused(413, _("The update is larger than {limit} bytes.").format(limit=cap))

    def not_json(self, err: ValueError) -> Refused:
        return Refused(400, _("The update is not valid JSON."))

    def parse(self, data: Any) -> ParsedUpdate:
        try:
            return parse_update(data, self.channel_id)
        except ParseError as err:
            raise Refused(400, str(err)) from None

    async def store(self, parsed: ParsedUpdate) -> web.StreamResponse:
        await self.handle(parsed)
        return web.json_response({"ok": True})

    def unstorable(self, parsed: ParsedUpdate, err: Exception) -> Refused:
        # handle() drops these itself; should one escape, it is acknowledged all the same.
        return Refused(200, _("The update cannot be stored: {error}").format(error=err),
                       answer=web.json_response({"ok": True}))

    def retry_later(self, parsed: ParsedUpdate) -> web.StreamResponse:
        return json_error(500, _("The update could not be stored; Telegram will retry."))

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return json_error(status, reason)
