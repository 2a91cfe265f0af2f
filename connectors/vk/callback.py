"""VK's Callback API steps in the shared pipeline (:mod:`connectors.webhook_pipeline`).

VK signs nothing: the body (under ``max_body_bytes``, else 413) must be a JSON object
(400) whose ``secret`` equals the configured one, compared in constant time, and whose
``group_id`` is this community's (403 otherwise; nothing stored). ``confirmation`` is
answered with the configured string; every other event with the plain text ``ok`` —
only after it is committed. VK repeats an event until it gets ``ok``
(``X-Retry-Counter``): a repeat of an ``event_id`` already stored is answered ``ok``
at once, and an authentic but malformed event is logged and acknowledged (repeating it
would never help). A store that is briefly unavailable gets 500, so VK repeats.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.rejections import RejectionLog
from connectors.vk.parse import Parsed, ParseError, parse_event
from connectors.webhook_pipeline import Refused, WebhookSteps
from storage.i18n import _

Event = tuple[str, Parsed]  # the body's event_id as VK sent it, and the parsed event


class VkCallback(WebhookSteps[Event]):
    def __init__(self, secret: str, group_id: int | None, confirmation: str, max_body: int,
                 channel_id: int, handle: Callable[[Parsed], Awaitable[None]],
                 seen: Callable[[str], bool], remember: Callable[[str], None],
                 rejections: RejectionLog) -> None:
        self.secret = secret
        self.group_id = group_id
        self.confirmation = confirmation
        self.max_body = max_body
        self.channel_id = channel_id
        self.handle = handle
        self.seen = seen
        self.remember = remember
        self.rejections = rejections

    def too_large(self, cap: int) -> Refused:
        return Refused(413, _("The event is larger than {limit} bytes.").format(limit=cap))

    def not_json(self, err: ValueError) -> Refused:
        return Refused(400, _("The event is not valid JSON."))

    def parse(self, data: Any) -> Event | web.StreamResponse:
        if not isinstance(data, dict):
            raise Refused(400, _("The event is not a JSON object."))
        got = data.get("secret")
        if not isinstance(got, str) or not hmac.compare_digest(
                got.encode("utf-8", "surrogatepass"), self.secret.encode()):
            raise Refused(403, _("Wrong or missing secret."))
        if self.group_id is not None and data.get("group_id") != self.group_id:
            raise Refused(403, _("The event is for another community ({group}).").format(
                group=data.get("group_id")))
        if data.get("type") == "confirmation":
            return web.Response(text=self.confirmation)
        event_id = str(data.get("event_id") or "")
        if event_id and self.seen(event_id):
            return _ok()
        try:
            return event_id, parse_event(data, self.channel_id)
        except ParseError as err:
            # Authentic but malformed: repeating it would never help, so VK gets ok.
            raise Refused(200, str(err), answer=_ok()) from None

    async def store(self, parsed: Event) -> web.StreamResponse:
        event_id, event = parsed
        await self.handle(event)
        self.remember(event_id)
        return _ok()

    def unstorable(self, parsed: Event, err: Exception) -> Refused:
        # handle() drops these itself; should one escape, it is acknowledged all the same.
        return Refused(200, _("The event cannot be stored: {error}").format(error=err),
                       answer=_ok())

    def retry_later(self, parsed: Event) -> web.StreamResponse:
        return web.Response(status=500, text=_("The event could not be stored; VK will "
                                               "repeat it."))

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return web.Response(status=status, text=reason)


def _ok() -> web.StreamResponse:
    return web.Response(text="ok")
