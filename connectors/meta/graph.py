"""A small Meta Graph API client over one shared aiohttp session.

Calls are ``{api_base}/{api_version}/{path}`` with ``Authorization: Bearer {token}`` (the
token never goes into a URL, so it cannot leak into a log line). Every refusal has the
same shape (https://developers.facebook.com/docs/graph-api/guides/error-handling):

``{"error": {"message", "type", "code", "error_subcode"?, "error_data"?: {"details"},
"is_transient"?, "error_user_title"?, "error_user_msg"?, "fbtrace_id"}}``

and becomes :class:`GraphError`. The HTTP status does not classify an error — WhatsApp's
throughput error 130429 comes with HTTP 400 — so callers decide by ``code`` and
``subcode`` (:func:`to_send_error`). No usable answer at all is :class:`GraphNetworkError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from connectors.base import PermanentSendError, SendError, TransientSendError
from storage.i18n import _

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
REQUEST_TIMEOUT = 30.0
# Codes that mean "try again later" on every Meta platform: 1 unknown, 2 service
# temporarily unavailable, 4 / 17 / 32 / 613 / 80007 rate limits, 1200 Messenger's
# temporary send error; WhatsApp: 130429 throughput, 131056 pair rate, 131016 service
# unavailable, 131000 "something went wrong", 133004 server temporarily unavailable.
# Meta gives no retry-after for them: the outbox's exponential backoff applies.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200, 80007,
                             130429, 131000, 131016, 131056, 133004})
AUTH_CODES = frozenset({102, 104, 190})  # no token, an invalid or expired token
AUTH_RETRY = 60.0


@dataclass(eq=False)
class GraphError(Exception):
    """Meta refused a call; ``str(err)`` is its message with the details."""

    status: int
    code: int
    message: str
    subcode: int | None = None
    details: str = ""
    transient: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        text = self.message or _("HTTP {status}").format(status=self.status)
        if self.details and self.details not in text:
            text = f"{text}: {self.details}"
        if not self.code or (not self.subcode and f"#{self.code}" in text):
            return text
        code = f"{self.code}/{self.subcode}" if self.subcode else str(self.code)
        return f"{text} ({code})"


class GraphNetworkError(Exception):
    """No usable answer from the Graph API (connection, timeout, not JSON)."""


def to_send_error(err: Exception) -> SendError:
    """The outbox's class for one failed call, with Meta's own reason."""
    if isinstance(err, GraphNetworkError):
        return TransientSendError(str(err))
    if isinstance(err, GraphError):
        if err.code in AUTH_CODES:  # fixing the token lets the message go
            return TransientSendError(err.reason, AUTH_RETRY)
        if err.code in TRANSIENT_CODES or err.transient or err.status >= 500:
            return TransientSendError(err.reason)
        return PermanentSendError(err.reason)
    return TransientSendError(str(err) or type(err).__name__)


class GraphApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, base: str | None = None,
                 version: str | None = None, timeout: float = REQUEST_TIMEOUT) -> None:
        self.session = session
        self.token = token
        self.base = (base or DEFAULT_BASE).rstrip("/")
        self.version = (version or DEFAULT_VERSION).strip("/")
        self.timeout = timeout

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str) -> str:
        return f"{self.base}/{self.version}/{path.lstrip('/')}"

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None, *,
                   form: aiohttp.FormData | None = None) -> dict[str, Any]:
        return await self.call("POST", path, body=body, form=form)

    async def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: dict[str, Any] | None = None,
                   form: aiohttp.FormData | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": self.auth, "params": params,
                                  "timeout": aiohttp.ClientTimeout(total=self.timeout)}
        if form is not None:
            kwargs["data"] = form
        elif body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False).encode()
            kwargs["headers"] = {**self.auth, "Content-Type": "application/json"}
        try:
            async with self.session.request(method, self.url(path), **kwargs) as resp:
                status, raw = resp.status, await resp.read()
        except TimeoutError as err:
            raise GraphNetworkError(_("Meta's Graph API did not answer in time.")) from err
        except aiohttp.ClientError as err:
            raise GraphNetworkError(_("Cannot reach Meta's Graph API: {error}").format(
                error=str(err).replace(self.token, "***") or type(err).__name__)) from err
        return parse_answer(status, raw)


def parse_answer(status: int, raw: bytes) -> dict[str, Any]:
    """The answer's JSON object, or a typed error."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        text = raw[:200].decode("utf-8", "replace").strip() or _("(empty body)")
        reason = _("Meta answered HTTP {status}: {body}").format(status=status, body=text)
        if status >= 500 or status == 0:
            raise GraphNetworkError(reason)
        raise GraphError(status, 0, reason)
    error = data.get("error")
    if isinstance(error, dict):
        raise graph_error(status, error)
    if status >= 400:
        raise GraphError(status, 0, _("HTTP {status}").format(status=status))
    return data


def graph_error(status: int, error: dict[str, Any]) -> GraphError:
    """A :class:`GraphError` from an ``error`` object (a send answer or a webhook status)."""
    def number(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    message = error.get("message") or error.get("title") or error.get("error_user_msg")
    return GraphError(status=status, code=number(error.get("code")) or 0,
                      message=str(message or ""), subcode=number(error.get("error_subcode")),
                      details=str(details or ""), transient=error.get("is_transient") is True,
                      raw=error)
