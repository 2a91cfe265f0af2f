"""A generic signed-webhook channel (kind ``generic``): glue for any custom system.

Why it exists: a company's own site, app or CRM can talk to Switchboard without a
messenger in between, and the gateway's delivery rules (signature before payload,
2xx only after commit, idempotent sends) can be shown on the simplest real protocol.

Inbound: ``POST /hooks/{channel}`` with header ``X-Switchboard-Signature:
sha256=<hex HMAC-SHA256 of the raw body, key = options.secret>``; a missing
signature is 401, a wrong one 403, and nothing is parsed or stored.

Replay protection (optional): a sender may add ``X-Switchboard-Timestamp: <Unix
seconds>`` and sign ``"<timestamp>." + body`` instead of the body alone. A signed
timestamp more than five minutes away from the server's clock is refused (403), so a
captured request cannot be played again later. ``options.require_timestamp: true``
refuses requests without one (401). Body::

    {"id": "m-1", "chat_id": "c-9", "sender_id": "u-9", "text": "Hello",
     "name": "Ivan", "username": "", "phone": "", "email": "", "data": {...}}

or a delivery status ``{"status": "delivered"|"read"|"failed", "message_id":
"<our external id>", "reason": "..."}``. Answered ``200 {"ok": true, ...}`` after commit.

Outbound: ``POST options.send_url`` with JSON ``{"id", "chat_id", "text",
"attachments", "quote"?}`` (``quote``: ``{"id", "text"}`` of the client message the
reply answers, only when it quotes one), the same signature header, and ``Idempotency-Key: sb-<message id>``
(the receiver must treat a repeated key as a no-op; a restart may resend).
A 2xx answer may carry ``{"id": "..."}`` (the receiver's message id). 429 (with
``Retry-After`` seconds), 408 and 5xx are transient; any other 4xx is permanent,
with the answer's ``error`` field (or text) as the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from connectors.base import (
    OK,
    ChannelSpec,
    Connector,
    ConnectorError,
    IngestFn,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from connectors.quoting import quote_of
from connectors.rejections import RejectionLog, is_permanent
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.models import DELIVERED, FAILED, READ
from storage.rows import OutboxItem
from storage.store import Store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
MAX_AGE_SECONDS = 300.0  # a signed timestamp further from now than this is refused
TRANSIENT_STATUSES = {408, 425, 429}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_payload(body: bytes, timestamp: str | None) -> bytes:
    """What the signature covers: the body, or ``"<timestamp>." + body`` when timestamped."""
    return body if timestamp is None else timestamp.encode() + b"." + body


def idempotency_key(message_id: int) -> str:
    return f"sb-{message_id}"


class GenericConnector(Connector):
    kind = "generic"

    def __init__(self, spec: ChannelSpec, store: Store, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.secret = str(spec.options.get("secret") or "")
        self.send_url = str(spec.options.get("send_url") or "")
        self.require_timestamp = bool(spec.options.get("require_timestamp") or False)
        self.path = f"/hooks/{quote(spec.name, safe='')}"
        self._session: aiohttp.ClientSession | None = None
        self.rejections = RejectionLog(log, f"generic {spec.name} {self.path}")

    async def start(self, session: aiohttp.ClientSession) -> None:
        if not self.secret:
            raise ConnectorError(_("Channel {name}: options.secret is required to check "
                                   "webhook signatures.").format(name=self.spec.name))
        self._session = session
        self.set_health(OK)

    async def stop(self) -> None:
        self._session = None
        self.rejections.close()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.path, self._webhook)]

    def describe_address(self, base_url: str) -> str:
        return _("Webhook for {name}: {url}").format(name=self.spec.name,
                                                     url=f"{base_url}{self.path}")

    async def _webhook(self, request: web.Request) -> web.Response:
        """Check the signature, parse, store; answer 200 only after commit.

        Every refusal is answered with a reason and logged (rate-limited, see
        :class:`RejectionLog`). Store failures: a message that can never be stored (a
        domain refusal, or the database refusing its content) is answered 422 — a 4xx,
        so the sender gives up instead of delivering a poison message forever; a store
        that is briefly unavailable (locked, connection lost) is answered 503 so the
        sender delivers the message again."""
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            return self._refuse(request, 401, _("The {header} header is missing.").format(
                header=SIGNATURE_HEADER))
        stamp = request.headers.get(TIMESTAMP_HEADER)
        if stamp is None and self.require_timestamp:
            return self._refuse(request, 401, _("The {header} header is missing.").format(
                header=TIMESTAMP_HEADER))
        body = await request.read()  # capped by the server's client_max_size
        if not self.secret or not hmac.compare_digest(
                given, sign(self.secret, signed_payload(body, stamp))):
            return self._refuse(request, 403, _("The signature does not match."))
        if stamp is not None and not _fresh(stamp):
            return self._refuse(request, 403, _(
                "The signed timestamp is more than five minutes away from the server's "
                "clock: a replayed request, or a clock that is wrong."))
        try:
            # Strict UTF-8 (RFC 8259): json.loads(bytes) would let an encoded surrogate in.
            data = json.loads(body.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return self._refuse(request, 400, _("The body is not valid UTF-8."))
        except ValueError:
            return self._refuse(request, 400, _("The body is not valid JSON."))
        if not isinstance(data, dict):
            return self._refuse(request, 400, _("The body must be a JSON object."))
        if "status" in data:
            return await self._status(request, data)
        try:
            inbound = self._inbound(data)
        except ValueError as err:
            return self._refuse(request, 400, str(err))
        try:
            result = await self.ingest(inbound)
        except Exception as err:
            if isinstance(err, SwitchboardError):
                return self._refuse(request, 422, str(err))
            if is_permanent(err):
                self.rejections.reject(f"the store refused the message: "
                                       f"{type(err).__name__}: {err}", 422, request.remote)
                return _answer(422, _("The message cannot be stored: the database refused its "
                                      "content. Sending it again will not help."))
            # Not committed (a lock, a lost database): the sender must deliver it again.
            log.exception("storing a webhook message failed")
            return _answer(503, _("The message could not be stored; please deliver it again."))
        return web.json_response({"ok": True, "message_id": result.message.id,
                                  "task_id": result.task.id, "duplicate": result.duplicate})

    def _refuse(self, request: web.Request, status: int, reason: str) -> web.Response:
        """Answer a refusal with its reason, and log it (never the body or the secret)."""
        self.rejections.reject(reason, status, request.remote)
        return _answer(status, reason)

    def _inbound(self, data: dict[str, Any]) -> Inbound:
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
            channel_id=self.spec.id, chat_id=chat_id,
            sender_id=text_field("sender_id") or chat_id, text=text_field("text"),
            external_id=text_field("id", required=True), sent_at=sent_at,
            display_name=text_field("name"), username=text_field("username"),
            phone=text_field("phone"), email=text_field("email"),
            client_data={str(k): v for k, v in extra.items()})

    async def _status(self, request: web.Request, data: dict[str, Any]) -> web.Response:
        state, external = data.get("status"), data.get("message_id")
        if state not in (DELIVERED, READ, FAILED) or not isinstance(external, str):
            return self._refuse(request, 400, _("A status needs 'status' (delivered, read or "
                                                "failed) and 'message_id'."))
        reason = str(data.get("reason") or "")
        try:
            found = await asyncio.to_thread(self.store.mark_delivery, self.spec.id, external,
                                            state, reason)
        except Exception as err:
            if is_permanent(err):
                return self._refuse(request, 422, _("The status cannot be stored: {error}")
                                    .format(error=err))
            log.exception("storing a delivery status failed")
            return _answer(503, _("The status could not be stored; please deliver it again."))
        return web.json_response({"ok": True, "found": found is not None})

    async def send(self, item: OutboxItem) -> SendResult:
        if self._session is None:
            raise TransientSendError(_("The channel is not running."))
        if not self.send_url:
            raise PermanentSendError(_("Channel {name} has no options.send_url to deliver "
                                       "to.").format(name=self.spec.name))
        payload: dict[str, Any] = {"id": item.message_id, "chat_id": item.chat_id,
                                   "text": item.text,
                                   "attachments": [a[0] for a in item.attachments]}
        quoted = quote_payload(item.meta)
        if quoted:
            payload["quote"] = quoted
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": idempotency_key(item.message_id),
                   SIGNATURE_HEADER: sign(self.secret, body)}
        async with self._session.post(self.send_url, data=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=30)) as response:
            text = await response.text()
            if 200 <= response.status < 300:
                try:
                    answer = json.loads(text) if text else {}
                except ValueError:
                    answer = {}
                their_id = answer.get("id") if isinstance(answer, dict) else None
                return SendResult(str(their_id) if their_id else idempotency_key(item.message_id))
            reason = _reason(response.status, text, self.secret)
            if response.status in TRANSIENT_STATUSES or response.status >= 500:
                raise TransientSendError(reason, _retry_after(response.headers.get("Retry-After")))
            raise PermanentSendError(reason)


def quote_payload(meta: dict[str, Any] | None) -> dict[str, str] | None:
    """``{"id", "text"}`` of the client message a reply quotes (``id``: the id the
    sender gave that message; "" when it had none), or None."""
    meta = meta or {}
    if not meta.get("quote_message_id") or int(meta.get("part") or 1) > 1:
        return None
    external = meta.get("quote_external_id")
    return {"id": str(external) if external else "", "text": quote_of(meta)}


def _fresh(stamp: str) -> bool:
    try:
        at = float(stamp)
    except ValueError:
        return False
    return abs(time.time() - at) <= MAX_AGE_SECONDS  # NaN compares False: refused


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _reason(status: int, text: str, secret: str = "") -> str:
    """The receiver's refusal as a failure reason (shown in the console, so the app
    secret is masked first, in case a receiver echoes it, then the text is cut)."""
    if secret:
        text = text.replace(secret, "***")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return f"{status}: {data['error']}"
    return f"{status}: {text.strip()[:300]}" if text.strip() else str(status)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
