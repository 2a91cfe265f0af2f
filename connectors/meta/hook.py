"""The webhook side every Meta platform shares: its address, the handshake, the signature.

* Verification (https://developers.facebook.com/docs/graph-api/webhooks/getting-started,
  "Verification Requests"): Meta sends ``GET ?hub.mode=subscribe&hub.verify_token=…&
  hub.challenge=…``; the endpoint answers the challenge as the body, 200, only when the
  token is the one configured in the app dashboard.
* Every POST carries ``X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256 of the
  payload, keyed with the app secret>`` ("Validating Payloads"). Meta signs its own
  escaped-unicode serialisation (``ä`` → ``\\u00e4``, ``/`` → ``\\/``), so the hash is
  taken over the raw request bytes, never over a re-serialised body, and compared in
  constant time before anything is parsed.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from connectors.webhooks import route_path, webhook_path

SIGNATURE_HEADER = "X-Hub-Signature-256"

__all__ = ["route_path", "webhook_path"]  # shared, re-exported


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (used by the tests' fake, too)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(app_secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` over the raw bytes."""
    if not app_secret:
        return False
    return hmac.compare_digest(sign(app_secret, body).encode(), header.strip().encode("utf-8",
                                                                                   "replace"))


def handshake(request: web.Request, verify_token: str) -> web.Response:
    """Answer Meta's verification GET: the challenge for the right token, else 403."""
    query = request.query
    token = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge", "")
    if (query.get("hub.mode") == "subscribe" and verify_token and challenge
            and hmac.compare_digest(token.encode(), verify_token.encode())):
        return web.Response(text=challenge, content_type="text/plain")
    return web.Response(status=403, text="Forbidden")
