"""Small pieces of Telegram's webhook side: its address, its secret, capped reading.

Kept apart from the connector so the pure parts (address, secret) are importable by
tests and by the benchmarks without the connector's state.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from aiohttp import web

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_BODY = 1024 * 1024


def webhook_path(channel_name: str) -> str:
    """The URL path Telegram posts to (percent-encoded: any channel name is safe)."""
    return f"/hooks/telegram/{quote(channel_name, safe='')}"


def route_path(channel_name: str) -> str:
    """The same path as an aiohttp route, which takes it decoded except ``%`` and ``/``."""
    return "/hooks/telegram/" + channel_name.replace("%", "%25").replace("/", "%2F")


def derived_secret(token: str, channel_name: str) -> str:
    """A stable webhook secret when none is configured (hex: Telegram's allowed alphabet)."""
    return hmac.new(token.encode(), f"switchboard-webhook:{channel_name}".encode(),
                    hashlib.sha256).hexdigest()


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


async def read_capped(request: web.Request, cap: int) -> bytes | None:
    """The body, or None once it is larger than ``cap``.

    Works behind the gateway's server and without it. The server's body-timeout
    middleware (:mod:`connectors.http_server`) reads the whole body before any handler
    runs, leaving the stream empty; aiohttp keeps those bytes for ``request.read()``, so
    a consumed stream is read that way. Otherwise the stream is read here, chunk by
    chunk, so a body without a length (chunked) is cut off as soon as it passes ``cap``
    instead of being held whole in memory first."""
    if request.content_length is not None and request.content_length > cap:
        return None
    if request.content.at_eof():  # already read (or empty): aiohttp kept the bytes
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return None
        return None if len(body) > cap else body
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
