"""The built-in web chat connector (kind ``webchat``).

Serves ``GET /chat/{channel}`` (a self-contained page: inline CSS and script, no
external assets, so it works offline) and ``GET /chat/{channel}/ws`` (the websocket).

Identity: the page keeps a random token in localStorage and presents it on every
connection; the conversation (``chat_id``) is a hash of that token, so the console
never shows the token and knowing a chat id does not let anyone read the thread.
A reload presents the same token and gets the visible history of the same task.

Wire protocol (JSON objects, ``type`` first):

* page → server: ``hello {token, name, page, referrer, language}``,
  ``message {id, text}`` (``id`` is the page's idempotency key: a resend after a
  reconnect stores nothing new), ``name {name}``, ``receipt {ids, state}`` with
  state ``delivered`` or ``read``;
* server → page: ``welcome {token}``, ``history {messages}``, ``message {...}``
  (see :func:`connectors.webchat.history.wire`), ``ack {id, message_id}`` once the
  visitor's message is committed, ``error {text, id?, retry}`` (``retry`` false: sending
  the message again cannot help, so the page drops it from its resend queue).

Outbound: :meth:`send` pushes the reply to every open socket of the visitor; it is
``sent`` whether or not one is open (an offline visitor gets it with the history on
reconnect), and becomes ``delivered``/``read`` when the page acknowledges it. The
outbound message id is the page's dedupe key, so a resend after a restart shows once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from aiohttp import WSMsgType, web

from connectors.base import OK, ChannelSpec, Connector, IngestFn, SendResult
from connectors.rejections import RejectionLog, is_permanent
from connectors.webchat.history import visitor_thread, wire
from storage.errors import SwitchboardError
from storage.events import MESSAGE_UPDATED, Event
from storage.i18n import _
from storage.inputs import Inbound
from storage.models import DELIVERED, READ, SENT
from storage.ops_outbox import OutboxItem
from storage.store import Store

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 10_000
MAX_FIELD = 2_000
MAX_NAME = 200
MAX_WS_MESSAGE = 64 * 1024
MAX_RECEIPT_IDS = 200


def chat_id_for(token: str) -> str:
    """The conversation id for a visitor token (a one-way hash: the token stays secret)."""
    return "web-" + hashlib.sha256(token.encode()).hexdigest()[:24]


def outbound_key(message_id: int) -> str:
    return f"out:{message_id}"


def system_data(hello: dict[str, Any]) -> dict[str, str]:
    """Where the visitor came from: page address, referrer, UTM parameters, language."""
    data: dict[str, str] = {}
    page = _field(hello.get("page"))
    if page:
        data["page"] = page
        for key, value in parse_qsl(urlsplit(page).query, keep_blank_values=False):
            if key.startswith("utm_") and len(data) < 20:
                data[key[:40]] = value[:MAX_FIELD]
    for key in ("referrer", "language"):
        value = _field(hello.get(key))
        if value:
            data[key] = value
    return data


def _field(value: Any, limit: int = MAX_FIELD) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


@dataclass(eq=False)  # hashed by identity: one per open socket
class Session:
    ws: web.WebSocketResponse
    token: str
    chat_id: str
    name: str = ""
    system_data: dict[str, str] = field(default_factory=dict)
    shown: set[int] = field(default_factory=set)  # operator messages this page was given


class WebChatConnector(Connector):
    kind = "webchat"

    def __init__(self, spec: ChannelSpec, store: Store, ingest: IngestFn) -> None:
        super().__init__(spec, store, ingest)
        self.path = f"/chat/{quote(spec.name, safe='')}"
        self._sockets: dict[str, set[Session]] = {}
        # Receipts that arrived before the outbox recorded the message as sent.
        self._early_receipts: dict[int, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._unsubscribe: Any = None
        self.rejections = RejectionLog(log, f"webchat {spec.name} {self.path}/ws")
        self._page = resources.files("connectors.webchat").joinpath("page.html").read_text("utf-8")

    # ---- connector interface ----------------------------------------------------------
    async def start(self, session: Any) -> None:
        self._loop = asyncio.get_running_loop()
        if self._unsubscribe is None:
            self._unsubscribe = self.store.bus.subscribe(self._on_event)
        self.set_health(OK)

    async def stop(self) -> None:
        self.rejections.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        sessions = [s for group in self._sockets.values() for s in group]
        self._sockets.clear()
        if sessions:  # the pages reconnect (with backoff) and get the history again
            await asyncio.gather(*(s.ws.close(code=1001, message=b"server shutdown")
                                   for s in sessions), return_exceptions=True)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.path, self._serve_page), web.get(f"{self.path}/ws", self._serve_ws)]

    def describe_address(self, base_url: str) -> str:
        return _("Web chat: {url}").format(url=f"{base_url}{self.path}")

    async def send(self, item: OutboxItem) -> SendResult:
        message = await asyncio.to_thread(self.store.get_message, item.message_id)
        payload = {**wire(message), "state": SENT}
        for s in list(self._sockets.get(item.chat_id, ())):
            s.shown.add(item.message_id)
            try:
                await s.ws.send_json(payload)
            except (ConnectionError, RuntimeError):
                self._forget(s)
        return SendResult(external_id=outbound_key(item.message_id))

    # ---- HTTP -------------------------------------------------------------------------
    async def _serve_page(self, request: web.Request) -> web.Response:
        config = {
            "channel": self.spec.name,
            "title": str(self.spec.options.get("title") or _("Chat with us")),
            "strings": {
                "placeholder": _("Type a message…"), "send": _("Send"),
                "name": _("Your name"), "save": _("Save"),
                "connecting": _("Connecting…"), "online": _("Connected"),
                "offline": _("Offline — reconnecting…"), "sending": _("sending…"),
                "operator": _("Operator"), "you": _("You"), "read": _("read"),
                "empty": _("Write to us — an operator will answer here."),
            },
        }
        blob = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        html = self._page.replace("{{CONFIG}}", blob).replace("{{LANG}}", "en")
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                       "script-src 'unsafe-inline'; connect-src 'self'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})

    async def _serve_ws(self, request: web.Request) -> web.WebSocketResponse:
        """One visitor's socket. A frame that cannot be used is answered with an
        ``error`` frame and logged (rate-limited); the connection stays open."""
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        session: Session | None = None
        peer = request.remote
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        self.rejections.reject("a binary frame (only JSON text is read)",
                                               peer=peer)
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    await self._refuse(ws, peer, _("The message could not be read."),
                                       log_reason="a frame that is not JSON")
                    continue
                if not isinstance(data, dict):
                    await self._refuse(ws, peer, _("The message could not be read."),
                                       log_reason="a frame that is not a JSON object")
                    continue
                kind = data.get("type")
                if kind == "hello":
                    if session is not None:
                        self._forget(session)
                    session = await self._hello(ws, data)
                elif session is None:
                    await self._refuse(ws, peer, _("Say hello first."))
                elif kind == "message":
                    await self._message(session, data, peer)
                elif kind == "name":
                    session.name = _field(data.get("name"), MAX_NAME)
                elif kind == "receipt":
                    await self._receipt(session, data, peer)
                else:
                    await self._refuse(ws, peer, _("Unknown message type."))
        finally:
            if session is not None:
                self._forget(session)
        return ws

    async def _hello(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session:
        token = data.get("token")
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            token = secrets.token_urlsafe(24)
        session = Session(ws, token, chat_id_for(token), _field(data.get("name"), MAX_NAME),
                          system_data(data))
        self._sockets.setdefault(session.chat_id, set()).add(session)
        await ws.send_json({"type": "welcome", "token": token})
        thread = await asyncio.to_thread(visitor_thread, self.store, self.spec.id, session.chat_id)
        session.shown.update(m.id for m in thread.messages)
        await ws.send_json({"type": "history", "messages": [wire(m) for m in thread.messages]})
        return session

    async def _message(self, session: Session, data: dict[str, Any], peer: str | None) -> None:
        """Store one visitor message and ``ack`` it after commit.

        Store failures: a message that can never be stored (a domain refusal, or the
        database refusing its content: :func:`is_permanent`) gets an ``error`` frame with
        ``retry: false`` and the page drops it from its resend queue; a store that is
        briefly unavailable gets ``retry: true`` ("will be sent again") and the page
        resends it after reconnecting. So no message is retried forever."""
        client_id = data.get("id")
        text = data.get("text")
        ws = session.ws
        if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
            await self._refuse(ws, peer, _("The message has no valid id."))
            return
        if not isinstance(text, str) or not text.strip():
            await self._refuse(ws, peer, _("The message is empty."), client_id)
            return
        if len(text) > MAX_TEXT:
            await self._refuse(ws, peer, _("The message is too long: at most {limit} "
                                           "characters.").format(limit=MAX_TEXT), client_id)
            return
        if isinstance(data.get("name"), str):
            session.name = _field(data["name"], MAX_NAME)
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
                await self._error(ws, _("The message could not be stored; it will be "
                                        "sent again."), client_id, retry=True)
            return
        await session.ws.send_json({"type": "ack", "id": client_id,
                                    "message_id": result.message.id})
        echo = wire(result.message)
        for other in list(self._sockets.get(session.chat_id, ())):  # the visitor's other tabs
            if other is not session:
                try:
                    await other.ws.send_json(echo)
                except (ConnectionError, RuntimeError):
                    self._forget(other)

    async def _receipt(self, session: Session, data: dict[str, Any], peer: str | None) -> None:
        state = data.get("state")
        ids = data.get("ids")
        if state not in (DELIVERED, READ) or not isinstance(ids, list):
            self.rejections.reject("a receipt without a valid state and ids", peer=peer)
            return
        mine = [i for i in ids[:MAX_RECEIPT_IDS] if isinstance(i, int) and i in session.shown]
        if mine:
            await asyncio.to_thread(self._mark, mine, state)

    def _mark(self, ids: list[int], state: str) -> None:
        """Record receipts (worker thread). The page may answer before the outbox has
        recorded the push as sent; such a receipt waits for that event."""
        for message_id in ids:
            if self.store.mark_delivery(self.spec.id, outbound_key(message_id), state) is None:
                if len(self._early_receipts) < 10_000:
                    previous = self._early_receipts.get(message_id)
                    if previous != READ:
                        self._early_receipts[message_id] = state

    def _on_event(self, event: Event) -> None:
        """Store events (any thread): apply an early receipt once its message is sent."""
        if (event.kind == MESSAGE_UPDATED and event.data.get("state") == SENT
                and event.message_id in self._early_receipts and self._loop is not None):
            self._loop.call_soon_threadsafe(self._apply_early, event.message_id)

    def _apply_early(self, message_id: int) -> None:
        state = self._early_receipts.pop(message_id, None)
        if state is not None:
            task = asyncio.ensure_future(asyncio.to_thread(self._mark, [message_id], state))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _refuse(self, ws: web.WebSocketResponse, peer: str | None, text: str,
                      client_id: str | None = None, *, log_reason: str | None = None) -> None:
        """Refuse a frame for good: log why (rate-limited) and tell the page, which
        drops the message from its resend queue."""
        self.rejections.reject(log_reason or text, peer=peer)
        await self._error(ws, text, client_id)

    async def _error(self, ws: web.WebSocketResponse, text: str, client_id: str | None = None,
                     *, retry: bool = False) -> None:
        """``retry`` tells the page whether sending the message again can help."""
        payload: dict[str, Any] = {"type": "error", "text": text, "retry": retry}
        if client_id:
            payload["id"] = client_id
        try:
            await ws.send_json(payload)
        except (ConnectionError, RuntimeError):
            pass

    def _forget(self, session: Session) -> None:
        sessions = self._sockets.get(session.chat_id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sockets[session.chat_id]
