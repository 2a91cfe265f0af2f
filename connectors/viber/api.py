"""A small Viber REST bot API client, and the callbacks' signature.

Every call is ``POST {base}/pa/{method}`` with the header ``X-Viber-Auth-Token`` and a
JSON body (https://developers.viber.com/docs/api/rest-bot-api/). Every answer comes with
HTTP 200: ``{"status": 0, "status_message": "ok", …}`` or a non-zero ``status`` (1
invalidUrl, 2 invalidAuthToken, 3 badData, 4 missingData, 5 receiverNotRegistered, 6
receiverNotSubscribed — live answers read ``notSubscribed`` —, 7 publicAccountBlocked,
10 webhookNotSet, 11 receiverNoSuitableDevice, 12 tooManyRequests).

Bodies are UTF-8 (``ensure_ascii=False``): Viber caps a request at 30 KB of raw bytes,
and a 7,000-character Cyrillic text written as ``\\u`` escapes would be about 42 KB.
Answers are parsed with exact integers: ``message_token`` is an int64 above 2⁵³ and is
kept as its decimal string, never a float.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import aiohttp

from storage.i18n import _

DEFAULT_BASE = "https://chatapi.viber.com"
AUTH_HEADER = "X-Viber-Auth-Token"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
MAX_REQUEST_BYTES = 30 * 1024
SNIPPET = 200

STATUS_NAMES = {1: "invalidUrl", 2: "invalidAuthToken", 3: "badData", 4: "missingData",
                5: "receiverNotRegistered", 6: "receiverNotSubscribed",
                7: "publicAccountBlocked", 8: "publicAccountNotFound",
                9: "publicAccountSuspended", 10: "webhookNotSet",
                11: "receiverNoSuitableDevice", 12: "tooManyRequests"}


class ViberApiError(Exception):
    """Viber answered a non-zero ``status``; ``str(err)`` is its ``status_message``."""

    def __init__(self, method: str, status: int, message: str) -> None:
        super().__init__(message)
        self.method = method
        self.status = status
        self.message = message


class ViberNetworkError(Exception):
    """No usable answer from Viber (connection, timeout, malformed reply, 5xx)."""


def signature(token: str, body: bytes) -> str:
    """The ``X-Viber-Content-Signature`` of a callback body: hex HMAC-SHA256, token-keyed."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def check_signature(token: str, body: bytes, got: str | None) -> bool:
    """Constant-time comparison of the header with the body's signature."""
    if not got or not token:
        return False
    return hmac.compare_digest(signature(token, body).encode(),
                               got.strip().lower().encode("utf-8", "replace"))


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ViberApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, base_url: str | None = None,
                 request_timeout: float = 30.0) -> None:
        self.session = session
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        self.request_timeout = request_timeout

    def _mask(self, text: str) -> str:
        return text.replace(self.token, "***") if len(self.token) >= 4 else text

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Call one method; the answer when ``status`` is 0, else a typed error."""
        body = encode(payload)
        if len(body) > MAX_REQUEST_BYTES:
            raise ViberApiError(method, 3, _("The request is {size} bytes; Viber accepts at "
                                             "most {limit}.").format(size=len(body),
                                                                     limit=MAX_REQUEST_BYTES))
        headers = {AUTH_HEADER: self.token, "Content-Type": "application/json; charset=utf-8"}
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self.session.post(f"{self.base_url}/pa/{method}", data=body,
                                         headers=headers, timeout=timeout) as resp:
                status, raw = resp.status, await resp.read()
        except TimeoutError as err:
            raise ViberNetworkError(_("Viber did not answer {method} in time.").format(
                method=method)) from err
        except aiohttp.ClientError as err:
            raise ViberNetworkError(self._mask(_("Cannot reach Viber ({method}): {error}").format(
                method=method, error=str(err) or type(err).__name__))) from err
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            data = None
        code = data.get("status") if isinstance(data, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            text = raw[:4096].decode("utf-8", "replace").strip()[:SNIPPET]
            raise ViberNetworkError(self._mask(_("Viber answered {method} with HTTP {status}: "
                                                 "{body}").format(method=method, status=status,
                                                                  body=text or _("(empty body)"))))
        assert isinstance(data, dict)
        if code != 0:
            message = data.get("status_message")
            if not isinstance(message, str) or not message:
                message = STATUS_NAMES.get(code, _("status {code}").format(code=code))
            raise ViberApiError(method, code, self._mask(message))
        return data

    # ---- the methods Switchboard uses ----------------------------------------------------
    async def set_webhook(self, url: str, event_types: list[str]) -> dict[str, Any]:
        return await self.call("set_webhook", {"url": url, "event_types": event_types,
                                               "send_name": True, "send_photo": False})

    async def get_account_info(self) -> dict[str, Any]:
        return await self.call("get_account_info", {})

    async def send_message(self, payload: dict[str, Any]) -> str:
        """Send one message; Viber's ``message_token`` as an exact decimal string."""
        data = await self.call("send_message", payload)
        token = data.get("message_token")
        if isinstance(token, str) and token.isdigit():
            return token
        if not isinstance(token, int) or isinstance(token, bool):
            raise ViberNetworkError(_("Viber answered send_message without a message_token."))
        return str(token)
