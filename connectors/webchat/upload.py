"""Visitors' files: ``POST {chat path}/upload?id={client id}&file={file name}&name=…``.

The body is the file itself (``Content-Type``: its type), the visitor token is in the
``X-Switchboard-Token`` header; ``name`` (optional) is the visitor's name, as the socket's
frames carry it. In order, before anything is stored:

* a foreign ``Origin`` → 403 (the same rule as the page and its socket);
* a token the server did not issue → 403 (never a fresh identity here: a file must
  belong to a conversation that exists);
* a client id that is not one → 400;
* a declared body over ``options.max_upload_bytes`` → 413, and again after reading, for
  a body that did not declare its length;
* over the visitor's message pace (``server.visitor_messages_per_second`` /
  ``visitor_burst``, shared with the socket) → 429 with ``Retry-After``.

The file is stored content-addressed (:class:`connectors.media.MediaStore`) and ingested
as the visitor's message with one attachment; its external id is ``{chat}:{client id}``
like a typed message's, so a resend stores nothing new. The answer is ``200 {"id",
"message_id"}`` after commit, and the message is pushed to the visitor's open pages.
Refusals answer ``{"error": <sentence>}``, which the page shows. The HTTP server's own
body cap (``server.max_body_bytes``) still applies before this route is reached.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.media import MediaStore
from connectors.ratelimit import RateLimiter
from connectors.rejections import RejectionLog, is_permanent
from connectors.webchat.identity import Tokens, chat_id_for
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.rows import IngestResult, MessageRow

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Switchboard-Token"
MAX_NAME = 200


def size_text(size: int) -> str:
    """``10.5 MB``, ``200 KB``, ``900 bytes``: a size a visitor reads."""
    if size >= 1_000_000:
        return _("{n:g} MB").format(n=round(size / 1_000_000, 1))
    if size >= 1000:
        return _("{n:g} KB").format(n=round(size / 1000, 1))
    return _("{n} bytes").format(n=size)


def too_large(limit: int) -> str:
    return _("The file is too large: at most {size}.").format(size=size_text(limit))


def _answer(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": text}, status=status, headers=headers)


def clean_name(name: str | None, default: str | None = None) -> str:
    """A name as the visitor's browser gave it: its last path part, printable only."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:MAX_NAME] or (_("file") if default is None else default)


class Uploads:
    """The upload route of one web chat channel (the connector hands in its parts)."""

    def __init__(self, channel_id: int, *, foreign: Callable[[web.Request], web.Response | None],
                 tokens: Callable[[], Awaitable[Tokens]], pace: Callable[[], RateLimiter],
                 media: MediaStore, max_bytes: int,
                 ingest: Callable[[Inbound], Awaitable[IngestResult]],
                 pushed: Callable[[str, MessageRow], Awaitable[None]],
                 client_id_ok: Callable[[str], bool], rejections: RejectionLog) -> None:
        self.channel_id = channel_id
        self.foreign, self.tokens, self.pace = foreign, tokens, pace
        self.media, self.max_bytes = media, max_bytes
        self.ingest, self.pushed, self.client_id_ok = ingest, pushed, client_id_ok
        self.rejections = rejections

    def _refuse(self, request: web.Request, status: int, text: str,
                headers: dict[str, str] | None = None) -> web.Response:
        self.rejections.reject(f"upload: {text}", status, request.remote)
        return _answer(status, text, headers)

    async def handle(self, request: web.Request) -> web.Response:
        refused = self.foreign(request)
        if refused is not None:
            return refused
        token = request.headers.get(TOKEN_HEADER)
        if not (await self.tokens()).valid(token):
            return self._refuse(request, 403, _("This conversation is not known; please "
                                                "reload the page."))
        assert isinstance(token, str)
        chat_id = chat_id_for(token)
        client_id = request.query.get("id", "")
        if not self.client_id_ok(client_id):
            return self._refuse(request, 400, _("The file has no valid id."))
        if request.content_length is not None and request.content_length > self.max_bytes:
            return self._refuse(request, 413, too_large(self.max_bytes))
        wait = self.pace().take(chat_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return self._refuse(request, 429, _("You are sending too fast; please try again "
                                                "in {seconds} s.").format(seconds=seconds),
                                {"Retry-After": str(seconds)})
        data = await request.read()  # within the server's body cap and body timeout
        if len(data) > self.max_bytes:  # a body that did not declare its length
            return self._refuse(request, 413, too_large(self.max_bytes))
        if not data:
            return self._refuse(request, 400, _("The file is empty."))
        return await self._store(request, chat_id, client_id, data)

    async def _store(self, request: web.Request, chat_id: str, client_id: str,
                     data: bytes) -> web.Response:
        name = clean_name(request.query.get("file"))
        mime = request.headers.get("Content-Type", "").split(";")[0].strip()
        if "/" not in mime or len(mime) > 100 or not mime.isprintable():
            mime = "application/octet-stream"
        try:
            attachment = await self.media.save(data, name=name, mime=mime)
        except OSError as err:
            log.error("webchat upload: cannot save the file: %s", err)
            return _answer(503, _("The file could not be saved; please try again."))
        inbound = Inbound(channel_id=self.channel_id, chat_id=chat_id, sender_id=chat_id,
                          text="", external_id=f"{chat_id}:{client_id}",
                          display_name=clean_name(request.query.get("name"), "") or _(
                              "Web visitor {code}").format(code=chat_id[-6:]),
                          attachments=(attachment,))
        try:
            result = await self.ingest(inbound)
        except Exception as err:
            if isinstance(err, SwitchboardError) or is_permanent(err):
                return self._refuse(request, 422, str(err) if isinstance(
                    err, SwitchboardError) else _("The file cannot be stored."))
            log.exception("storing a web chat upload failed")
            return _answer(503, _("The file could not be stored; please try again."))
        await self.pushed(chat_id, result.message)
        answer: dict[str, Any] = {"id": client_id, "message_id": result.message.id}
        return web.json_response(answer)
