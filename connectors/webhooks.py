"""What every webhook route shares: its path and reading its body under a cap (the
whole request sequence is :mod:`connectors.webhook_pipeline`).

Webhooks are served at ``/hooks/{kind}/{channel name}``; the name is percent-encoded in
the address given to the platform and registered as aiohttp matches it (decoded except
``%`` and ``/``), so any channel name (Cyrillic, spaces) works.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web


def webhook_path(kind: str, channel_name: str) -> str:
    """The URL path the platform posts to (percent-encoded: any channel name is safe)."""
    return f"/hooks/{kind}/{quote(channel_name, safe='')}"


def route_path(kind: str, channel_name: str) -> str:
    """The same path as an aiohttp route, which takes it decoded except ``%`` and ``/``."""
    return f"/hooks/{kind}/" + channel_name.replace("%", "%25").replace("/", "%2F")


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
