"""Files on the web chat page: signed download links, and the route serving them.

A message's files reach the page as links to the gateway itself::

    {chat path}/file?m={message id}&i={index}&k={key}

``key`` is an HMAC (under the channel's visitor-token secret) of the channel, the chat
the message belongs to, the message and the attachment's index. The server puts links
only into frames it sends to that chat's pages, so a visitor can fetch only the files of
their own conversation: the operators' attachments addressed to them and their own
uploads. A wrong key, another chat's message, a reply not yet picked up by the outbox,
a private note or a file gone from disk is a 404 that says nothing.

A file is always served as a download (``Content-Disposition: attachment``), with
``nosniff`` and a sandboxing CSP: a visitor's HTML or SVG never runs on the chat origin.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from connectors.webchat.history import visible
from storage.rows import MessageRow

KEY_CHARS = 32


class FileLinks:
    """Sign and check the download links of one channel's files."""

    def __init__(self, secret: bytes, channel_id: int, chat_path: str) -> None:
        self._secret = secret
        self.channel_id = channel_id
        self.path = f"{chat_path}/file"

    def key(self, chat_id: str, message_id: int, index: int) -> str:
        text = f"webchat-file:{self.channel_id}:{chat_id}:{message_id}:{index}"
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:KEY_CHARS]

    def url(self, message: MessageRow, index: int) -> str:
        key = self.key(message.chat_id or "", message.id, index)
        return f"{self.path}?m={message.id}&i={index}&k={key}"

    def files(self, message: MessageRow) -> list[dict[str, Any]]:
        """``[{name, size, url}]`` for the message's stored files (a file that was never
        downloaded has no link)."""
        return [{"name": a.name, "size": a.size, "url": self.url(message, i)}
                for i, a in enumerate(message.attachments) if local_path(a.location)]


def local_path(location: str) -> Path | None:
    if not location or location.startswith(("http://", "https://")):
        return None
    return Path(location.removeprefix("file://")).expanduser()


def _number(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def handler(links: Callable[[], Awaitable[FileLinks]], get_message: Callable[[int], MessageRow]
            ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The GET handler for ``{chat path}/file`` (see the module docstring)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        signer = await links()
        message_id = _number(request.query.get("m"))
        index = _number(request.query.get("i"))
        key = request.query.get("k", "")
        if message_id is None or index is None:
            raise web.HTTPNotFound()
        try:
            message = await asyncio.to_thread(get_message, message_id)
        except Exception:  # unknown id: NotFound from the store
            raise web.HTTPNotFound() from None
        chat = message.chat_id or ""
        if (not hmac.compare_digest(signer.key(chat, message_id, index), key)
                or not visible(message, signer.channel_id, chat)
                or index >= len(message.attachments)):
            raise web.HTTPNotFound()
        attachment = message.attachments[index]
        path = local_path(attachment.location)
        if path is None or not await asyncio.to_thread(path.is_file):
            raise web.HTTPNotFound()
        mime = attachment.mime or mimetypes.guess_type(attachment.name)[0]
        name = quote(attachment.name or "file", safe="")
        return web.FileResponse(path, headers={
            "Content-Type": mime or "application/octet-stream",
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store"})

    return serve
