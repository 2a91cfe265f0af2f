"""The Meta platforms' webhook steps in the shared pipeline
(:mod:`connectors.webhook_pipeline`).

``POST``: no ``X-Hub-Signature-256`` → 401; a body over ``max_body_bytes`` → 413; a
wrong signature → 403 — all before anything is parsed, and nothing is stored. Not JSON
/ not the platform's envelope → 400 (Meta does not retry 4xx forever, and a body with a
valid signature that we cannot read is a bug worth a log line). Then everything the
body carries is stored, and only then ``200 EVENT_RECEIVED``. A store that is briefly
unavailable → 500, and Meta delivers the batch again (for days on WhatsApp). Refusals
are answered ``{"error": reason}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.meta.hook import SIGNATURE_HEADER, signature_ok
from connectors.meta.messaging import ParseError
from connectors.rejections import RejectionLog
from connectors.webhook_pipeline import Refused, WebhookSteps, missing_header, wrong_header
from storage.i18n import _


class MetaWebhook(WebhookSteps[list[Any]]):
    def __init__(self, app_secret: str, max_body: int,
                 parse: Callable[[Any], list[Any]],
                 store: Callable[[list[Any]], Awaitable[None]],
                 rejections: RejectionLog) -> None:
        self.app_secret = app_secret
        self.max_body = max_body
        self._parse = parse
        self._store = store
        self.rejections = rejections

    def check_headers(self, request: web.Request) -> None:
        if SIGNATURE_HEADER not in request.headers:
            raise missing_header(SIGNATURE_HEADER)

    def check_body(self, request: web.Request, body: bytes) -> None:
        if not signature_ok(self.app_secret, body, request.headers[SIGNATURE_HEADER]):
            raise wrong_header(SIGNATURE_HEADER)

    def too_large(self, cap: int) -> Refused:
        return Refused(413, _("The body is larger than {limit} bytes.").format(limit=cap))

    def not_json(self, err: ValueError) -> Refused:
        return Refused(400, _("The body is not valid JSON."))

    def parse(self, data: Any) -> list[Any]:
        try:
            return self._parse(data)
        except ParseError as err:
            raise Refused(400, str(err)) from None

    async def store(self, parsed: list[Any]) -> web.StreamResponse:
        await self._store(parsed)
        return web.Response(text="EVENT_RECEIVED")

    def unstorable(self, parsed: list[Any], err: Exception) -> Refused:
        # Events that can never be stored are skipped one by one (MetaConnector.guarded);
        # one that escapes is answered as before: 500, and Meta delivers the batch again.
        return Refused(500, _("An event cannot be stored: {error}").format(error=err),
                       answer=self.retry_later(parsed))

    def retry_later(self, parsed: list[Any]) -> web.StreamResponse:
        return web.json_response({"error": _("Not stored; Meta will retry.")}, status=500)

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return web.json_response({"error": reason}, status=status)
