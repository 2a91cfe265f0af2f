"""The generic API's webhook steps in the shared pipeline
(:mod:`connectors.webhook_pipeline`), and the signature both directions use.

``X-Switchboard-Signature`` missing → 401 (and ``X-Switchboard-Timestamp`` missing when
``require_timestamp``), before the body is read; the body is capped by the server's
``client_max_size``; a wrong signature, or a signed timestamp more than five minutes
from the server's clock → 403. Not UTF-8 / not JSON / not an object / a field of the
wrong type → 400. Then the message (or the delivery status) is stored and answered
``200 {"ok": true, ...}``. Store failures: a message that can never be stored (a
domain refusal, or the database refusing its content) is answered 422 — a 4xx, so the
sender gives up instead of delivering a poison message forever; a store that is
briefly unavailable (locked, connection lost) is answered 503 so the sender delivers
the message again. Every refusal is answered ``{"ok": false, "error": reason}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from connectors.rejections import RejectionLog
from connectors.webhook_pipeline import Refused, WebhookSteps
from storage.constants import DELIVERED, FAILED, READ
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.ports import ConnectorStore
from storage.rows import IngestResult

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
MAX_AGE_SECONDS = 300.0  # a signed timestamp further from now than this is refused


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_payload(body: bytes, timestamp: str | None) -> bytes:
    """What the signature covers: the body, or ``"<timestamp>." + body`` when timestamped."""
    return body if timestamp is None else timestamp.encode() + b"." + body


@dataclass(frozen=True)
class StatusReport:
    """``{"status": delivered|read|failed, "message_id", "reason"}``: a reply's fate."""

    state: str
    external_id: str
    reason: str


Item = Inbound | StatusReport


class GenericWebhook(WebhookSteps[Item]):
    def __init__(self, secret: str, require_timestamp: bool, channel_id: int,
                 ingest: Callable[[Inbound], Awaitable[IngestResult]], store: ConnectorStore,
                 rejections: RejectionLog) -> None:
        self.secret = secret
        self.require_timestamp = require_timestamp
        self.channel_id = channel_id
        self.ingest = ingest
        self.connector_store = store
        self.rejections = rejections

    def check_headers(self, request: web.Request) -> None:
        if not request.headers.get(SIGNATURE_HEADER, ""):
            raise Refused(401, _("The {header} header is missing.").format(
                header=SIGNATURE_HEADER))
        if self.require_timestamp and TIMESTAMP_HEADER not in request.headers:
            raise Refused(401, _("The {header} header is missing.").format(
                header=TIMESTAMP_HEADER))

    def check_body(self, request: web.Request, body: bytes) -> None:
        stamp = request.headers.get(TIMESTAMP_HEADER)
        if not self.secret or not hmac.compare_digest(
                request.headers.get(SIGNATURE_HEADER, ""),
                sign(self.secret, signed_payload(body, stamp))):
            raise Refused(403, _("The signature does not match."))
        if stamp is not None and not _fresh(stamp):
            raise Refused(403, _(
                "The signed timestamp is more than five minutes away from the server's "
                "clock: a replayed request, or a clock that is wrong."))

    def too_large(self, cap: int) -> Refused:  # the server caps this route's bodies
        return Refused(413, _("The body is larger than {limit} bytes.").format(limit=cap))

    def not_json(self, err: ValueError) -> Refused:
        if isinstance(err, UnicodeDecodeError):
            return Refused(400, _("The body is not valid UTF-8."))
        return Refused(400, _("The body is not valid JSON."))

    def parse(self, data: Any) -> Item:
        if not isinstance(data, dict):
            raise Refused(400, _("The body must be a JSON object."))
        if "status" in data:
            state, external = data.get("status"), data.get("message_id")
            if state not in (DELIVERED, READ, FAILED) or not isinstance(external, str):
                raise Refused(400, _("A status needs 'status' (delivered, read or failed) and "
                                     "'message_id'."))
            return StatusReport(str(state), external, str(data.get("reason") or ""))
        try:
            return inbound_of(data, self.channel_id)
        except ValueError as err:
            raise Refused(400, str(err)) from None

    async def store(self, parsed: Item) -> web.StreamResponse:
        if isinstance(parsed, StatusReport):
            found = await asyncio.to_thread(self.connector_store.mark_delivery,
                                            self.channel_id, parsed.external_id, parsed.state,
                                            parsed.reason)
            return web.json_response({"ok": True, "found": found is not None})
        result = await self.ingest(parsed)
        return web.json_response({"ok": True, "message_id": result.message.id,
                                  "task_id": result.task.id, "duplicate": result.duplicate})

    def unstorable(self, parsed: Item, err: Exception) -> Refused:
        if isinstance(parsed, StatusReport):
            return Refused(422, _("The status cannot be stored: {error}").format(error=err))
        if isinstance(err, SwitchboardError):
            return Refused(422, str(err))
        return Refused(422, f"the store refused the message: {type(err).__name__}: {err}",
                       answer=answer(422, _("The message cannot be stored: the database "
                                            "refused its content. Sending it again will not "
                                            "help.")))

    def retry_later(self, parsed: Item) -> web.StreamResponse:
        if isinstance(parsed, StatusReport):
            return answer(503, _("The status could not be stored; please deliver it again."))
        # Not committed (a lock, a lost database): the sender must deliver it again.
        return answer(503, _("The message could not be stored; please deliver it again."))

    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        return answer(status, reason)


def inbound_of(data: dict[str, Any], channel_id: int) -> Inbound:
    """The message a body describes; ValueError (with the reason) for a wrong field."""
    def text_field(name: str, required: bool = False) -> str:
        value = data.get(name, "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            raise ValueError(_("Field {name!r} must be a non-empty string.").format(name=name)
                             if required else _("Field {name!r} must be a string.").format(
                                 name=name))
        return value

    extra = data.get("data") or {}
    if not isinstance(extra, dict):
        raise ValueError(_("Field 'data' must be an object."))
    sent_at = None
    if isinstance(data.get("sent_at"), int | float) and not isinstance(data["sent_at"], bool):
        try:
            sent_at = datetime.fromtimestamp(float(data["sent_at"]), UTC)
        except (ValueError, OverflowError, OSError):  # NaN, out of range
            raise ValueError(_("Field 'sent_at' must be a Unix time in seconds.")) from None
    chat_id = text_field("chat_id", required=True)
    return Inbound(
        channel_id=channel_id, chat_id=chat_id,
        sender_id=text_field("sender_id") or chat_id, text=text_field("text"),
        external_id=text_field("id", required=True), sent_at=sent_at,
        display_name=text_field("name"), username=text_field("username"),
        phone=text_field("phone"), email=text_field("email"),
        client_data={str(k): v for k, v in extra.items()})


def answer(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _fresh(stamp: str) -> bool:
    try:
        at = float(stamp)
    except ValueError:
        return False
    return abs(time.time() - at) <= MAX_AGE_SECONDS  # NaN compares False: refused
