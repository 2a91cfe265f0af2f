"""The built-in web chat connector (kind ``webchat``).

Serves ``GET /chat/{channel}`` (a self-contained page: inline CSS and script, no
external assets, so it works offline), ``GET /chat/{channel}/ws`` (the websocket),
``POST /chat/{channel}/upload`` (a visitor's file, :mod:`connectors.webchat.upload`) and
``GET /chat/{channel}/file`` (signed download links, :mod:`connectors.webchat.files`).
All answer 403 to a browser on a foreign origin (:mod:`connectors.webchat.origin`).

Identity (:mod:`connectors.webchat.identity`): the page keeps a server-issued, signed
token in localStorage and presents it on every connection; a token the server did not
issue gets a fresh identity. The conversation (``chat_id``) is a hash of the token.

Wire protocol (JSON objects, ``type`` first):

* page → server: ``hello {token, name, page, referrer, language}``,
  ``message {id, text}`` (``id`` is the page's idempotency key: a resend after a
  reconnect stores nothing new), ``name {name}``, ``receipt {ids, state}`` with
  state ``delivered`` or ``read``, ``older {before}`` (a history cursor);
* server → page: ``welcome {token}``, ``history {messages, before}`` (the newest page;
  ``before`` is the cursor of the older page, null at the start), ``older {messages,
  before}``, ``message {...}`` (see :func:`connectors.webchat.history.wire`: a quoted
  reply has ``quote {id, text}``, stored files ``files [{name, size, url}]``), ``ack
  {id, message_id}`` once the visitor's message is committed, ``receipt_ack {ids,
  state}`` once receipts are recorded (:mod:`connectors.webchat.receipts`), ``error
  {text, id?, retry, retry_after?}`` (``retry`` false: sending the message again cannot
  help, so the page drops it from its resend queue; true: the page keeps it and sends
  it again after ``retry_after`` seconds or the next connection).

No race between history and live frames: a socket is registered for pushes *before*
its history is read, and pushes to it wait in a backlog until the history frame is
out. A reply pushed while the page connects is either in the history (the outbox
marks it ``sending`` before it pushes) or follows it; the page drops duplicates by id.

Limits (``server:`` settings, :class:`connectors.http_server.ServerLimits`): each
visitor sends ``visitor_messages_per_second`` with a ``visitor_burst`` (the excess gets
``error`` with ``retry_after``); one address starts at most ``new_chats_per_minute``
new visitors (the excess gets ``error`` and the socket is closed with 1013).

Outbound: :meth:`send` pushes the reply to the visitor's open pages; it is ``sent``
either way (an offline visitor gets it with the history), then ``delivered``/``read``
from the page's receipts. Its id is the page's dedupe key: a resend shows once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

from connectors.base import OK, ChannelSpec, Connector, IngestFn, SendResult
from connectors.http_server import ServerLimits
from connectors.media import media_store_for
from connectors.ratelimit import RateLimiter
from connectors.rejections import RejectionLog, is_permanent, printable
from connectors.webchat import files
from connectors.webchat.history import (
    PAGE_SIZE,
    FilesFn,
    HistoryPage,
    history_page,
    parse_cursor,
    wire,
)
from connectors.webchat.identity import Tokens, chat_id_for, load_secret
from connectors.webchat.origin import OriginPolicy
from connectors.webchat.page_render import render_page
from connectors.webchat.pages import Pages, send_error
from connectors.webchat.receipts import Receipts
from connectors.webchat.session import MAX_NAME, Session, field_text, system_data
from connectors.webchat.upload import DEFAULT_MAX_UPLOAD_BYTES, Uploads
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.models import DELIVERED, READ, SENT
from storage.rows import MessageRow, OutboxItem
from storage.store import Store

log = logging.getLogger(__name__)

__all__ = ["WebChatConnector", "chat_id_for", "outbound_key"]

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 10_000
MAX_WS_MESSAGE = 64 * 1024
MAX_RECEIPT_IDS = 200
# Frames other than messages (receipts, names, older pages) get this many times the
# visitor's message allowance: generous for a page, a wall for a loop.
OTHER_FRAMES_FACTOR = 20
TRY_AGAIN_LATER = 1013  # websocket close code: the server asks the client to come back later


def outbound_key(message_id: int) -> str:
    return f"out:{message_id}"


class WebChatConnector(Connector):
    kind = "webchat"

    def __init__(self, spec: ChannelSpec, store: Store, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.path = f"/chat/{quote(spec.name, safe='')}"
        self.pages = Pages()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Any = None
        self._tokens: Tokens | None = None
        self._links: files.FileLinks | None = None
        self.max_upload_bytes = int(spec.options.get("max_upload_bytes")
                                    or DEFAULT_MAX_UPLOAD_BYTES)
        self.rejections = RejectionLog(log, f"webchat {spec.name} {self.path}/ws")
        self.closes = RejectionLog(log, f"webchat {spec.name} {self.path}/ws",
                                   what="closed a socket")
        self.receipts = Receipts(store, spec.id, outbound_key, self._receipts_recorded)
        self._page = resources.files("connectors.webchat").joinpath("page.html").read_text("utf-8")
        self.serve_with(ServerLimits(), None)
        self.uploads = Uploads(
            spec.id, foreign=self._foreign, tokens=self._ensure_tokens,
            pace=lambda: self.messages, media=media_store_for(spec.options),
            max_bytes=self.max_upload_bytes, ingest=self.ingest, pushed=self._push_stored,
            client_id_ok=lambda v: bool(CLIENT_ID_RE.match(v)), rejections=self.rejections)

    def body_caps(self) -> dict[Any, int]:
        # One byte over the upload cap reaches the handler, which answers with the page's
        # own "file too large" message; anything bigger is cut at the server.
        return {self.uploads.handle: self.max_upload_bytes + 1}

    def serve_with(self, limits: ServerLimits, public_url: str | None) -> None:
        """The server's limits and public address (the gateway calls this)."""
        self.limits = limits
        allowed = self.spec.options.get("allowed_origins") or ()
        if isinstance(allowed, str):
            allowed = (allowed,)
        self.origins = OriginPolicy([str(a) for a in allowed], public_url or self.spec.options.get(
            "public_url"))
        self.messages = RateLimiter(limits.visitor_messages_per_second, limits.visitor_burst)
        self.frames = RateLimiter(limits.visitor_messages_per_second * OTHER_FRAMES_FACTOR,
                                  limits.visitor_burst * OTHER_FRAMES_FACTOR)
        self.new_chats = RateLimiter(limits.new_chats_per_minute / 60.0,
                                     limits.new_chats_per_minute)

    # ---- connector interface ----------------------------------------------------------
    async def start(self, session: Any) -> None:
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
        return [web.get(self.path, self._serve_page), web.get(f"{self.path}/ws", self._serve_ws),
                web.post(f"{self.path}/upload", self.uploads.handle),
                web.get(f"{self.path}/file", files.handler(self._file_links,
                                                           self.store.get_message))]

    def describe_address(self, base_url: str) -> str:
        return _("Web chat: {url}").format(url=f"{base_url}{self.path}")

    async def send(self, item: OutboxItem) -> SendResult:
        message = await asyncio.to_thread(self.store.get_message, item.message_id)
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
        return render_page(self._page, self.spec.name, self.spec.options.get("title"),
                           self.max_upload_bytes, self.origins.allowed)

    async def _serve_ws(self, request: web.Request) -> web.StreamResponse:
        """One visitor's socket. A frame that cannot be used is answered with an
        ``error`` frame and logged (rate-limited); the connection stays open. When the
        socket closes for a reason other than the page leaving, the reason is logged."""
        refused = self._foreign(request)
        if refused is not None:
            return refused
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        session: Session | None = None
        peer = request.remote
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        self.rejections.reject("a binary frame (only JSON text is read)",
                                               peer=peer)
                    continue
                session = await self._frame(ws, session, msg.data, peer)
                if ws.closed:
                    break
        finally:
            if session is not None:
                self.pages.forget(session)
            self._log_close(ws, peer)
        return ws

    async def _frame(self, ws: web.WebSocketResponse, session: Session | None, raw: str,
                     peer: str | None) -> Session | None:
        try:
            data = json.loads(raw)
        except ValueError:
            await self._refuse(ws, peer, _("The message could not be read."),
                               log_reason="a frame that is not JSON")
            return session
        if not isinstance(data, dict):
            await self._refuse(ws, peer, _("The message could not be read."),
                               log_reason="a frame that is not a JSON object")
            return session
        kind = data.get("type")
        if kind == "hello":
            if session is not None:
                self.pages.forget(session)
            return await self._hello(ws, data, peer)
        if session is None:
            await self._refuse(ws, peer, _("Say hello first."))
        elif kind == "message":
            await self._message(session, data, peer)
        elif self.frames.take(session.chat_id) > 0:
            self.rejections.reject(f"too many {printable(str(kind), 20)} frames from one "
                                   f"visitor", peer=peer)
        elif kind == "name":
            session.name = field_text(data.get("name"), MAX_NAME)
        elif kind == "receipt":
            await self._receipt(session, data, peer)
        elif kind == "older":
            await self._older(session, data)
        else:
            await self._refuse(ws, peer, _("Unknown message type."))
        return session

    def _log_close(self, ws: web.WebSocketResponse, peer: str | None) -> None:
        """Say why a socket closed, unless the page simply left (rate-limited)."""
        code = ws.close_code
        error = ws.exception()
        code = getattr(error, "code", None) or code  # 1009 for an oversized frame
        if code == TRY_AGAIN_LATER:
            return  # closed by _hello, whose refusal was logged with its reason
        if error is not None or (code is not None and code not in (1000, 1001, 1005)):
            reason = f"{type(error).__name__}: {error}" if error is not None else "closed"
            self.closes.reject(f"code {code}: {reason}", peer=peer)
        else:
            log.debug("webchat %s: socket from %s closed (%s)", self.spec.name, peer, code)

    async def _hello(self, ws: web.WebSocketResponse, data: dict[str, Any],
                     peer: str | None) -> Session | None:
        """Identify the visitor, send the history, then live frames.

        A new visitor counts against ``new_chats_per_minute`` of the address; a known
        one against its own frame allowance (each hello reads a page of history). The
        excess gets ``error`` with ``retry_after`` and the socket is closed with 1013."""
        tokens = await self._ensure_tokens()
        token = data.get("token")
        if tokens.valid(token):
            assert isinstance(token, str)
            wait = self.frames.take(chat_id_for(token))
            why = "a visitor said hello too often"
            text = _("Too many connections; please try again in {seconds} s.")
        else:
            token = tokens.issue()
            wait = self.new_chats.take(peer or "?")
            why = (f"more than {self.limits.new_chats_per_minute} new visitors a minute from "
                   f"one address (server.new_chats_per_minute)")
            text = _("Too many new conversations from your network; please try again in "
                     "{seconds} s.")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            self.rejections.reject(why, peer=peer)
            await send_error(ws, text.format(seconds=seconds), retry=True, retry_after=seconds)
            await ws.close(code=TRY_AGAIN_LATER, message=b"try again later")
            return None
        session = Session(ws, token, chat_id_for(token), field_text(data.get("name"), MAX_NAME),
                          system_data(data))
        # Registered before the history is read: a push from now on waits in the backlog.
        self.pages.add(session)
        await self.pages.send(session, {"type": "welcome", "token": token})
        page = await asyncio.to_thread(history_page, self.store, self.spec.id, session.chat_id)
        await self.pages.send(session, _page_frame("history", page, self._files()))
        await self.pages.go_live(session)
        return session

    async def _older(self, session: Session, data: dict[str, Any]) -> None:
        before = parse_cursor(data.get("before"))
        if before is None:
            return
        page = await asyncio.to_thread(history_page, self.store, self.spec.id, session.chat_id,
                                       before, PAGE_SIZE)
        await self.pages.send(session, _page_frame("older", page, self._files()))

    async def _message(self, session: Session, data: dict[str, Any], peer: str | None) -> None:
        """Store one visitor message and ``ack`` it after commit.

        Refusals: over the visitor's pace, ``error`` with ``retry: true`` and
        ``retry_after`` (the page sends it again then); a message that can never be
        stored (a domain refusal, or the database refusing its content:
        :func:`is_permanent`) gets ``retry: false`` and the page drops it; a store that
        is briefly unavailable gets ``retry: true``. So no message is retried forever
        and none the server acknowledged is lost."""
        client_id = data.get("id")
        text = data.get("text")
        ws = session.ws
        if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
            await self._refuse(ws, peer, _("The message has no valid id."))
            return
        wait = self.messages.take(session.chat_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            self.rejections.reject(
                f"a visitor sent more than {self.limits.visitor_burst} messages at once or "
                f"{self.limits.visitor_messages_per_second:g} a second (server."
                f"visitor_messages_per_second / visitor_burst)", peer=peer)
            await send_error(ws, _("You are sending messages too fast; this one will be sent "
                                    "in {seconds} s.").format(seconds=seconds), client_id,
                              retry=True, retry_after=seconds)
            return
        if not isinstance(text, str) or not text.strip():
            await self._refuse(ws, peer, _("The message is empty."), client_id)
            return
        if len(text) > MAX_TEXT:
            await self._refuse(ws, peer, _("The message is too long: at most {limit} "
                                           "characters.").format(limit=MAX_TEXT), client_id)
            return
        if isinstance(data.get("name"), str):
            session.name = field_text(data["name"], MAX_NAME)
        extra = dict(session.system_data)
        if session.name:  # also here: a name given after the first message still shows
            extra["visitor_name"] = session.name
        inbound = Inbound(
            channel_id=self.spec.id, chat_id=session.chat_id, sender_id=session.chat_id,
            text=text, external_id=f"{session.chat_id}:{client_id}",
            display_name=session.name or _("Web visitor {code}").format(
                code=session.chat_id[-6:]),
            system_data=extra)
        try:
            result = await self.ingest(inbound)
        except Exception as err:
            if isinstance(err, SwitchboardError):
                await self._refuse(ws, peer, str(err), client_id)
            elif is_permanent(err):
                await self._refuse(ws, peer, _("The message cannot be stored."), client_id,
                                   log_reason=f"the store refused the message: "
                                              f"{type(err).__name__}: {err}")
            else:
                log.exception("storing a web chat message failed")
                await send_error(ws, _("The message could not be stored; it will be "
                                        "sent again."), client_id, retry=True)
            return
        await self.pages.send(session, {"type": "ack", "id": client_id,
                                   "message_id": result.message.id})
        # The visitor's other tabs show it too.
        await self.pages.push(session.chat_id, wire(result.message, self._files()),
                              besides=session)

    async def _receipt(self, session: Session, data: dict[str, Any], peer: str | None) -> None:
        state = data.get("state")
        ids = data.get("ids")
        if state not in (DELIVERED, READ) or not isinstance(ids, list):
            self.rejections.reject("a receipt without a valid state and ids", peer=peer)
            return
        wanted = [i for i in ids[:MAX_RECEIPT_IDS]
                  if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2 ** 63]
        if wanted:
            settled = await self.receipts.record(session.chat_id, wanted, state)
            if settled:
                await self.pages.send(session, {"type": "receipt_ack", "ids": settled,
                                           "state": state})

    def _receipts_recorded(self, chat_id: str, ids: list[int], state: str) -> None:
        """Held receipts were recorded (on the loop): tell the visitor's open pages."""
        self.pages.push_soon(chat_id, {"type": "receipt_ack", "ids": ids, "state": state})

    async def _refuse(self, ws: web.WebSocketResponse, peer: str | None, text: str,
                      client_id: str | None = None, *, log_reason: str | None = None) -> None:
        """Refuse a frame for good: log why (rate-limited) and tell the page, which
        drops the message from its resend queue."""
        self.rejections.reject(log_reason or text, peer=peer)
        await send_error(ws, text, client_id)


def _page_frame(kind: str, page: HistoryPage, files: FilesFn | None) -> dict[str, Any]:
    return {"type": kind, "messages": [wire(m, files) for m in page.messages],
            "before": list(page.before) if page.before is not None else None}
