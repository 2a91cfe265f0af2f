"""Viber's callback steps in the shared pipeline (:mod:`connectors.webhook_pipeline`).

The body is read under ``max_body_bytes`` (413), then ``X-Viber-Content-Signature``
(the hex HMAC-SHA256 of the raw body keyed with the bot token) is checked in constant
time: missing → 401, wrong → 403, nothing parsed or stored. Not JSON or not a callback
→ 400. ``{"status": 0, "status_message": "ok"}`` only after commit; a refusal is
``{"status": 1, "status_message": reason}``. Viber repeats a callback that is not
answered 200 (for about an hour), so a callback that can never be stored is dropped by
:meth:`ViberConnector.handle <connectors.viber.connector.ViberConnector.handle>` and
acknowledged, and a store briefly unavailable gets 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.rejections import RejectionLog
from connectors.viber.api import SIGNATURE_HEADER, check_signature
from connectors.viber.parse import Parsed, ParseError, parse_callback
from connectors.webhook_pipeline import Refused, WebhookSteps, missing_header, wrong_header
from storage.i18n import _


class ViberWebhook(WebhookSteps[Parsed]):
    def __init__(self, token: str, max_body: int, channel_id: int,
                 handle: Callable[[Parsed], Awaitable[None]],
                 rejections: RejectionLog) -> None:
        self.token = token
        self.max_body = max_body
        self.channel_id = channel_id
        self.handle = handle
        self.rejections = rejections

    def check_body(self, request: web.Request, body: bytes) -> None:
        got = request.headers.get(SIGNATURE_HEADER)
        if got is None:
            raise missing_header(SIGNATURE_HEADER)
        if not check_signature(self.token, body, got):
            raise wrong_header(SIGNATURE_HEADER)

    def too_large(self, cap: int) -> Refused:
        return Refused(413, _("The callback is larger than {limit} bytes.").format(limit=cap))

    def not_json(self, err: ValueError) -> Refused:
        return Refused(400, _("The callback is not valid JSON."))

    def parse(self, data: Any) -> Parsed:
        try:
            return parse_callback(data, self.channel_id)
        except ValueError as err:  # ParseError, or a value the parser could not take
            raise (Refused(400, str(err)) if isinstance(err, ParseError)
                   else self.not_json(err)) from None

    async def store(self, parsed: Parsed) -> web.StreamResponse:
        await self.handle(parsed)
        return _ok()

    def unstorable(self, parsed: Parsed, err: Exception) -> Refused:
        # handle() drops these itself; should one escape, it is acknowledged all the same.
        return Refused(200, _("The callback cannot be stored: {error}").format(error=err),
                       answer=_ok())

    def retry_later(self, parsed: Parsed) -> web.StreamResponse:
        return web.json_response({"status": 1, "status_message": _(
            "The callback could not be stored; Viber will repeat it.")}, status=500)

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return web.json_response({"status": 1, "status_message": reason}, status=status)


def _ok() -> web.StreamResponse:
    return web.json_response({"status": 0, "status_message": "ok"})
