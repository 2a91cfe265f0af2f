"""The built-in web chat connector (kind ``webchat``): the channel's routes, who may
connect, and replies to the visitors.

Serves ``GET /chat/{channel}`` (a self-contained page: inline CSS and script, no
external assets, so it works offline), ``GET /chat/{channel}/ws`` (the websocket: the
conversation itself is :mod:`connectors.webchat.visitor_socket`), ``POST
/chat/{channel}/upload`` (a visitor's file, :mod:`connectors.webchat.upload`) and ``GET
/chat/{channel}/file`` (signed download links, :mod:`connectors.webchat.files`). All
answer 403 to a browser on a foreign origin (:mod:`connectors.webchat.origin`). A channel
whose options do not validate serves none of them and fails to start, naming the option.

Identity (:mod:`connectors.webchat.identity`): the page keeps a server-issued, signed
token in localStorage and presents it on every connection; a token the server did not
issue gets a fresh identity. The conversation (``chat_id``) is a hash of the token.

Limits (``server:`` settings, :mod:`connectors.webchat.pacing`): each visitor sends
``visitor_messages_per_second`` with a ``visitor_burst`` (the excess gets ``error``
with ``retry_after``); one address starts at most ``new_chats_per_minute`` new
visitors, and a known visitor says hello within their frame allowance (the excess gets
``error`` and the socket is closed with 1013).

Outbound: :meth:`send` pushes the reply to the visitor's open pages; it is ``sent``
either way (an offline visitor gets it with the history), then ``delivered``/``read``
from the page's receipts. Its id is the page's dedupe key: a resend shows once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from connectors.base import OK, ChannelSpec, Connector, IngestFn, PermanentSendError, SendResult
from connectors.http_server import ServerLimits
from connectors.media import media_store_for
from connectors.rejections import RejectionLog
from connectors.webchat import WebChatOptions, files
from connectors.webchat.history import FilesFn, wire
from connectors.webchat.identity import Tokens, chat_id_for, load_secret
from connectors.webchat.origin import OriginPolicy
from connectors.webchat.pacing import Pacing
from connectors.webchat.page_render import render_page
from connectors.webchat.pages import Pages, send_error
from connectors.webchat.receipts import Receipts
from connectors.webchat.upload import Uploads
from connectors.webchat.visitor_socket import TRY_AGAIN_LATER, VisitorSockets, client_id_ok
from storage.constants import SENT
from storage.i18n import _
from storage.ports import ConnectorStore
from storage.rows import MessageRow, OutboxItem

log = logging.getLogger(__name__)

__all__ = ["WebChatConnector", "chat_id_for", "outbound_key"]


def outbound_key(message_id: int) -> str:
    return f"out:{message_id}"


class WebChatConnector(Connector):
    kind = "webchat"
    options: WebChatOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.path = f"/chat/{quote(spec.name, safe='')}"
        self.pages = Pages()
        self.pacing = Pacing()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Any = None
        self._tokens: Tokens | None = None
        self._links: files.FileLinks | None = None
        self.rejections = RejectionLog(log, f"webchat {spec.name} {self.path}/ws")
        self.closes = RejectionLog(log, f"webchat {spec.name} {self.path}/ws",
                                   what="closed a socket")
        self.receipts = Receipts(store, spec.id, outbound_key, self._receipts_recorded)
        self._page = resources.files("connectors.webchat").joinpath("page.html").read_text("utf-8")
        self.serve_with(ServerLimits(), None)
        self.visitors = VisitorSockets(
            store, spec.id, spec.name, pages=self.pages, pacing=self.pacing,
            receipts=self.receipts, ingest=ingest, files=self._files,
            rejections=self.rejections, closes=self.closes)
        self.uploads = Uploads(
            spec.id, foreign=self._foreign, tokens=self._ensure_tokens,
            pace=lambda: self.pacing.messages,
            media=media_store_for(self.options.model_dump()),
            max_bytes=self.options.max_upload_bytes, ingest=ingest, pushed=self._push_stored,
            client_id_ok=client_id_ok, rejections=self.rejections)

    def body_caps(self) -> dict[Any, int]:
        # One byte over the upload cap reaches the handler, which answers with the page's
        # own "file too large" message; anything bigger is cut at the server.
        return {} if self.config_error else {self.uploads.handle:
                                             self.options.max_upload_bytes + 1}

    def serve_with(self, limits: ServerLimits, public_url: str | None) -> None:
        """The server's limits and public address (the gateway calls this)."""
        self.pacing.apply(limits)
        self.origins = OriginPolicy(self.options.allowed_origins,
                                    public_url or self.options.public_url)

    # ---- connector interface ----------------------------------------------------------
    async def start(self, session: Any) -> None:
        self.check_config()
        self._loop = asyncio.get_running_loop()
        await self._ensure_tokens()
        self.receipts.start(self._loop)
        if self._unsubscribe is None:
            self._unsubscribe = self.store.bus.subscribe(self.receipts.on_event)
        self.set_health(OK)

    async def _ensure_tokens(self) -> Tokens:
        """The token issuer (a page may say hello before the supervisor ran start())."""
        if self._tokens is None:
            secret = await asyncio.to_thread(load_secret, self.store)
            if self._tokens is None:
                self._tokens = Tokens(secret, self.spec.id)
                self._links = files.FileLinks(secret, self.spec.id, self.path)
        return self._tokens

    async def _file_links(self) -> files.FileLinks:
        await self._ensure_tokens()
        assert self._links is not None
        return self._links

    def _files(self) -> FilesFn | None:
        return self._links.files if self._links is not None else None

    async def _push_stored(self, chat_id: str, message: MessageRow) -> None:
        """A visitor's message stored outside the socket (an upload): to their pages."""
        await self.pages.push(chat_id, wire(message, self._files()))

    async def stop(self) -> None:
        self.rejections.close()
        self.closes.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        # The pages reconnect (with backoff) and get the history again.
        await self.pages.close_all(1001, b"server shutdown")

    def routes(self) -> list[web.RouteDef]:
        if self.config_error:  # nothing to serve: start() fails with the reason
            return []
        return [web.get(self.path, self._serve_page), web.get(f"{self.path}/ws", self._serve_ws),
                web.post(f"{self.path}/upload", self.uploads.handle),
                web.get(f"{self.path}/file", files.handler(self._file_links,
                                                           self.store.get_message))]

    def describe_address(self, base_url: str) -> str:
        return _("Web chat: {url}").format(url=f"{base_url}{self.path}")

    async def send(self, item: OutboxItem) -> SendResult:
        message = await asyncio.to_thread(self.store.get_message, item.message_id)
        if message.channel_id != self.spec.id or (message.chat_id or "") != item.chat_id:
            # Never pushed to a chat the reply was not written to.
            raise PermanentSendError(_("The reply is not addressed to this chat."))
        await self._ensure_tokens()
        payload = {**wire(message, self._files()), "state": SENT}
        await self.pages.push(item.chat_id, payload)
        return SendResult(external_id=outbound_key(item.message_id))

    # ---- HTTP -------------------------------------------------------------------------
    def _foreign(self, request: web.Request) -> web.Response | None:
        """403 for a browser on an origin this chat does not serve, else None."""
        origin = request.headers.get("Origin")
        if self.origins.allows(origin, request.host):
            return None
        reason = _("This origin may not use the chat: {origin}").format(origin=origin)
        self.rejections.reject(f"{request.method} {request.rel_url.raw_path}: {reason}", 403,
                               request.remote)
        return web.Response(status=403, text=reason)

    async def _serve_page(self, request: web.Request) -> web.Response:
        refused = self._foreign(request)
        if refused is not None:
            return refused
        return render_page(self._page, self.spec.name, self.options.title,
                           self.options.max_upload_bytes, self.origins.allowed)

    async def _serve_ws(self, request: web.Request) -> web.StreamResponse:
        refused = self._foreign(request)
        if refused is not None:
            return refused
        return await self.visitors.serve(request, self._hello)

    async def _hello(self, ws: web.WebSocketResponse, data: dict[str, Any],
                     peer: str | None) -> str | None:
        """Who said ``hello`` on ``ws``: their token, or None when they may not connect now.

        A token the server did not issue gets a fresh one. A new visitor counts against
        ``new_chats_per_minute`` of the address; a known one against its own frame
        allowance (each hello reads a page of history). The excess gets ``error`` with
        ``retry_after`` and the socket is closed with 1013."""
        tokens = await self._ensure_tokens()
        token = data.get("token")
        if tokens.valid(token):
            assert isinstance(token, str)
            wait = self.pacing.frames.take(chat_id_for(token))
            why = "a visitor said hello too often"
            text = _("Too many connections; please try again in {seconds} s.")
        else:
            token = tokens.issue()
            wait = self.pacing.new_chats.take(peer or "?")
            why = (f"more than {self.pacing.limits.new_chats_per_minute} new visitors a "
                   f"minute from one address (server.new_chats_per_minute)")
            text = _("Too many new conversations from your network; please try again in "
                     "{seconds} s.")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            self.rejections.reject(why, peer=peer)
            await send_error(ws, text.format(seconds=seconds), retry=True, retry_after=seconds)
            await ws.close(code=TRY_AGAIN_LATER, message=b"try again later")
            return None
        return token

    def _receipts_recorded(self, chat_id: str, ids: list[int], state: str) -> None:
        """Held receipts were recorded (on the loop): tell the visitor's open pages."""
        self.pages.push_soon(chat_id, {"type": "receipt_ack", "ids": ids, "state": state})
