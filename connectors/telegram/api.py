"""A small Telegram Bot API client over one shared aiohttp session.

Every call is ``POST {base}/bot{token}/{method}`` with a JSON body (multipart when a
file is uploaded); every answer is ``{"ok": true, "result": …}`` or ``{"ok": false,
"error_code": N, "description": "…", "parameters": {"retry_after": S}}``
(https://core.telegram.org/bots/api#making-requests). Failures become two typed errors
so the connector can decide what is transient:

* :class:`TelegramApiError` — Telegram answered and refused (``error_code``,
  ``description``, ``retry_after``);
* :class:`TelegramNetworkError` — no usable answer: connection refused, timeout, a proxy's
  HTML error page.

The bot token is a password: it is part of every URL, so every error message built
here goes through :func:`mask_token` and never carries it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from storage.i18n import _

DEFAULT_BASE = "https://api.telegram.org"


# Any bot token, ours or not: digits, a colon, then the secret's alphabet.
_ANY_TOKEN = re.compile(r"(?<![0-9])([0-9]{3,}):[A-Za-z0-9_-]{20,}")
_PIECE = 8  # a run sharing this many consecutive characters with the secret is masked
# Runs of the token alphabet: a piece of the secret can only hide inside one of them.
_RUN = re.compile(rf"[A-Za-z0-9_-]{{{_PIECE},}}")
# Bodies are masked before they are cut for a message; beyond this they are cut first
# (masking is linear, but an error page of megabytes is not worth scanning).
MASK_SCAN_LIMIT = 64 * 1024


def mask_token(text: str, token: str) -> str:
    """``text`` with the bot token, any recognizable piece of it and any other bot token
    replaced by a mask.

    A proxy's error page or a cut body may echo only part of the token (the URL holds
    it), so besides the whole token this masks every run of the token's alphabet that
    shares :data:`_PIECE` consecutive characters with the secret half, and anything
    shaped like ``<bot id>:<secret>``."""
    if not token:
        return _ANY_TOKEN.sub(r"\1:***", text)
    masked = text.replace(token, mask(token))
    bot_id, _sep, secret = token.partition(":")
    if len(secret) >= _PIECE:
        pieces = {secret[i:i + _PIECE] for i in range(len(secret) - _PIECE + 1)}

        def hide(match: re.Match[str]) -> str:
            run = match.group(0)
            # The bot id is public (it is what the mask shows): a secret that happens to
            # share digits with it must not mask it.
            for part in run.split(bot_id) if bot_id else (run,):
                for i in range(len(part) - _PIECE + 1):
                    if part[i:i + _PIECE] in pieces:
                        return "***"
            return run

        masked = _RUN.sub(hide, masked)
    elif len(secret) >= 4:
        masked = masked.replace(secret, "***")
    return _ANY_TOKEN.sub(r"\1:***", masked)


def snippet(body: bytes, token: str, limit: int = 200) -> str:
    """At most ``limit`` characters of an answer's body for an error message, masked
    *before* it is cut: cutting first could split the token so it no longer matched."""
    text = body[:MASK_SCAN_LIMIT].decode("utf-8", "replace")
    return mask_token(text, token).strip()[:limit].strip()


def mask(token: str) -> str:
    """How a token is shown in logs and errors: the bot id only."""
    bot_id, sep, _secret = token.partition(":")
    return f"{bot_id}:***" if sep and bot_id.isdigit() else "***"


class TelegramApiError(Exception):
    """Telegram answered ``ok: false``; ``str(err)`` is its description."""

    def __init__(self, method: str, error_code: int, description: str,
                 retry_after: float | None = None, migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.method = method
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


class TelegramNetworkError(Exception):
    """No usable answer from the Bot API (connection, timeout, malformed reply)."""


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart ``InputFile``."""

    filename: str
    data: bytes
    mime: str = "application/octet-stream"


class BotApi:
    def __init__(self, session: aiohttp.ClientSession, token: str, base_url: str | None = None,
                 request_timeout: float = 30.0) -> None:
        self.session = session
        self.token = token
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        self.request_timeout = request_timeout

    def _url(self, method: str) -> str:
        return f"{self.base_url}/bot{self.token}/{method}"

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   files: dict[str, Upload] | None = None, timeout: float | None = None) -> Any:
        """Call one Bot API method and return its ``result``; raise a typed error."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        kwargs: dict[str, Any] = {}
        if files:
            # Raw UTF-8 file names, as browsers send them; quoting would make a Cyrillic
            # name arrive percent-encoded at Telegram.
            form = aiohttp.FormData(quote_fields=False)
            for key, value in params.items():
                form.add_field(key, value if isinstance(value, str) else json.dumps(value))
            for key, upload in files.items():
                form.add_field(key, upload.data, filename=upload.filename,
                               content_type=upload.mime)
            kwargs["data"] = form
        else:
            kwargs["json"] = params
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.request_timeout)
        try:
            async with self.session.post(self._url(method), timeout=client_timeout,
                                         **kwargs) as resp:
                status = resp.status
                body = await resp.read()
        except TimeoutError as err:
            raise TelegramNetworkError(_("Telegram did not answer {method} in time.").format(
                method=method)) from err
        except aiohttp.ClientError as err:
            raise TelegramNetworkError(mask_token(
                _("Cannot reach Telegram ({method}): {error}").format(
                    method=method, error=str(err) or type(err).__name__), self.token)) from err
        return self._result(method, status, body)

    def _result(self, method: str, status: int, body: bytes) -> Any:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            text = snippet(body, self.token)
            reason = mask_token(_("Telegram answered {method} with HTTP {status}: {body}").format(
                method=method, status=status, body=text or _("(empty body)")), self.token)
            if status >= 500 or status == 0:
                raise TelegramNetworkError(reason)
            raise TelegramApiError(method, status, reason)
        if data.get("ok") is True:
            return data.get("result")
        code = data.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else status
        description = data.get("description")
        description = mask_token(description if isinstance(description, str) and description
                                 else _("HTTP {status}").format(status=status), self.token)
        parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        retry_after = parameters.get("retry_after")
        retry_after = (float(retry_after) if isinstance(retry_after, int | float)
                       and not isinstance(retry_after, bool) and retry_after >= 0 else None)
        migrate = parameters.get("migrate_to_chat_id")
        raise TelegramApiError(method, code, description, retry_after,
                               migrate if isinstance(migrate, int) else None)

    # ---- the methods Switchboard uses ----------------------------------------------------
    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_updates(self, offset: int | None, limit: int = 100, timeout: float = 25,
                          allowed_updates: list[str] | None = None) -> list[Any]:
        # The HTTP request must outlive the long poll it asks the server to hold.
        result = await self.call("getUpdates", {
            "offset": offset or None, "limit": limit, "timeout": timeout,
            "allowed_updates": allowed_updates,
        }, timeout=timeout + self.request_timeout)
        if not isinstance(result, list):
            raise TelegramNetworkError(_("Telegram answered getUpdates without a list."))
        return result

    async def set_webhook(self, url: str, secret_token: str,
                          allowed_updates: list[str] | None = None,
                          drop_pending_updates: bool | None = None) -> Any:
        return await self.call("setWebhook", {
            "url": url, "secret_token": secret_token, "allowed_updates": allowed_updates,
            "drop_pending_updates": drop_pending_updates,
        })

    async def delete_webhook(self, drop_pending_updates: bool | None = None) -> Any:
        return await self.call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    async def send_message(self, chat_id: str, text: str,
                           reply_parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text,
                                               "reply_parameters": reply_parameters})

    async def send_file(self, method: str, field: str, chat_id: str, file: str | Upload,
                        caption: str | None = None,
                        reply_parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """``sendDocument``/``sendPhoto``: ``file`` is an upload, a URL or a file_id."""
        params: dict[str, Any] = {"chat_id": chat_id, "caption": caption or None,
                                  "reply_parameters": reply_parameters}
        if isinstance(file, Upload):
            return await self.call(method, params, files={field: file})
        params[field] = file
        return await self.call(method, params)

    async def get_file(self, file_id: str) -> dict[str, Any]:
        """``getFile``: a ``File`` whose ``file_path`` :meth:`file_url` turns into a link."""
        result = await self.call("getFile", {"file_id": file_id})
        if not isinstance(result, dict):
            raise TelegramNetworkError(_("Telegram answered getFile without a File."))
        return result

    def file_url(self, file_path: str) -> str:
        """``{base}/file/bot{token}/{file_path}`` (holds the token: never show it)."""
        return f"{self.base_url}/file/bot{self.token}/{file_path.lstrip('/')}"


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` unless ``stop`` is set first; True when stopped."""
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
        async with asyncio.timeout(max(seconds, 0)):
            await stop.wait()
        return True
    except TimeoutError:
        return stop.is_set()
