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
The webhook is the shared pipeline with the steps in :mod:`connectors.generic.webhook`.

Outbound: ``POST options.send_url`` with JSON ``{"id", "chat_id", "text",
"attachments", "quote"?}`` (``quote``: ``{"id", "text"}`` of the client message the
reply answers, only when it quotes one), the same signature header, and ``Idempotency-Key: sb-<message id>``
(the receiver must treat a repeated key as a no-op; a restart may resend).
A 2xx answer may carry ``{"id": "..."}`` (the receiver's message id). 429 (with
``Retry-After`` seconds), 408 and 5xx are transient; any other 4xx is permanent,
with the answer's ``error`` field (or text) as the reason.
"""

from __future__ import annotations

import json
import logging
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
from connectors.generic import GenericOptions
from connectors.generic.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    GenericWebhook,
    sign,
    signed_payload,
)
from connectors.quoting import quote_of
from connectors.rejections import RejectionLog
from connectors.webhook_pipeline import webhook_route
from storage.i18n import _
from storage.ports import ConnectorStore
from storage.rows import OutboxItem

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = {408, 425, 429}

__all__ = ["GenericConnector", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "idempotency_key",
           "sign", "signed_payload"]


def idempotency_key(message_id: int) -> str:
    return f"sb-{message_id}"


class GenericConnector(Connector):
    kind = "generic"

    options: GenericOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.secret = self.options.secret
        self.send_url = self.options.send_url or ""
        self.require_timestamp = self.options.require_timestamp
        self.path = f"/hooks/{quote(spec.name, safe='')}"
        self._session: aiohttp.ClientSession | None = None
        self.rejections = RejectionLog(log, f"generic {spec.name} {self.path}")

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.check_config()
        if not self.secret:
            raise ConnectorError(_("Channel {name}: options.secret is required to check "
                                   "webhook signatures.").format(name=self.spec.name))
        self._session = session
        self.set_health(OK)

    async def stop(self) -> None:
        self._session = None
        self.rejections.close()

    def routes(self) -> list[web.RouteDef]:
        steps = GenericWebhook(self.secret, self.require_timestamp, self.spec.id, self.ingest,
                               self.store, self.rejections)
        return [webhook_route(self.path, steps)]

    def describe_address(self, base_url: str) -> str:
        return _("Webhook for {name}: {url}").format(name=self.spec.name,
                                                     url=f"{base_url}{self.path}")

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
