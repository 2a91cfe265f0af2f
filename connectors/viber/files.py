"""Outbound files for Viber: published as links under ``public_url``.

Viber takes media only as a URL it downloads itself (``picture``/``video``/``file``
messages carry ``media``; https://developers.viber.com/docs/api/rest-bot-api/
#send-message). A local file an operator sends is therefore served by the gateway at

    {public_url}/files/viber/{channel id}/{message id}/{index}/{key}/{file name}

where ``key`` is an HMAC of (channel, message, index) keyed with the bot token: only the
files of messages this channel sent can be fetched, and only by whoever was given the
link (Viber). Everything else — a wrong key, another channel's message, a client's
message, a file gone from disk — is a 404 that says nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from storage.constants import OUTBOUND
from storage.rows import MessageRow

KEY_CHARS = 32


def link_key(token: str, channel_id: int, message_id: int, index: int) -> str:
    return hmac.new(token.encode(), f"viber-file:{channel_id}:{message_id}:{index}".encode(),
                    hashlib.sha256).hexdigest()[:KEY_CHARS]


def route_pattern(channel_id: int) -> str:
    return (f"/files/viber/{channel_id}/{{message_id:[0-9]+}}/{{index:[0-9]+}}/"
            "{key:[0-9a-f]+}/{name}")


def file_link(public_url: str, token: str, channel_id: int, message_id: int, index: int,
              name: str) -> str:
    key = link_key(token, channel_id, message_id, index)
    return (f"{public_url.rstrip('/')}/files/viber/{channel_id}/{message_id}/{index}/{key}/"
            f"{quote(name or 'file', safe='')}")


def local_path(location: str) -> Path | None:
    if not location or location.startswith(("http://", "https://")):
        return None
    return Path(location.removeprefix("file://")).expanduser()


def handler(token: str, channel_id: int, get_message: Callable[[int], MessageRow]
            ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The GET handler serving one channel's outbound files (see the module docstring)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        message_id = int(request.match_info["message_id"])
        index = int(request.match_info["index"])
        expected = link_key(token, channel_id, message_id, index)
        if not hmac.compare_digest(expected, request.match_info["key"]):
            raise web.HTTPNotFound()
        try:
            message = await asyncio.to_thread(get_message, message_id)
        except Exception:  # unknown id: NotFound from the store
            raise web.HTTPNotFound() from None
        if (message.channel_id != channel_id or message.kind != OUTBOUND
                or index >= len(message.attachments)):
            raise web.HTTPNotFound()
        attachment = message.attachments[index]
        path = local_path(attachment.location)
        if path is None or not await asyncio.to_thread(path.is_file):
            raise web.HTTPNotFound()
        mime = attachment.mime or mimetypes.guess_type(attachment.name)[0]
        return web.FileResponse(path, headers={"Content-Type": mime or
                                               "application/octet-stream"})

    return serve
