"""The websocket conversation with a visitor: frames in, frames out, one socket at a time.

Wire protocol (JSON objects, ``type`` first):

* page → server: ``hello {token, name, page, referrer, language}``,
  ``message {id, text}`` (``id`` is the page's idempotency key: a resend after a
  reconnect stores nothing new), ``name {name}``, ``receipt {ids, state}`` with
  state ``delivered`` or ``read``, ``older {before}`` (a history cursor);
* server → page: ``welcome {token}``, ``history {messages, before}`` (the newest page;
  ``before`` is the cursor of the older page, null at the start), ``older {messages,
  before}`` (or, over the visitor's pace, ``older {messages: [], retry_after}``: no page,
  ask again then), ``message {...}`` (see :func:`connectors.webchat.history.wire`: a quoted
  reply has ``quote {id, text}``, stored files ``files [{name, size, url}]``), ``ack
  {id, message_id}`` once the visitor's message is committed, ``receipt_ack {ids,
  state}`` once receipts are recorded (:mod:`connectors.webchat.receipts`), ``error
  {text, id?, retry, retry_after?}`` (``retry`` false: sending the message again cannot
  help, so the page drops it from its resend queue; true: the page keeps it and sends
  it again after ``retry_after`` seconds or the next connection).

Who the visitor is comes from the channel (the ``admit`` callable the connector hands
in: it checks the token and the pace of new visitors, see
:class:`connectors.webchat.connector.WebChatConnector`); everything the socket then reads
or writes is that visitor's chat only: history and older pages through
:func:`connectors.webchat.history.history_page` (filtered by channel and chat), live
frames through :class:`connectors.webchat.pages.Pages` (keyed by chat), receipts through
:class:`connectors.webchat.receipts.Receipts` (only replies addressed to the chat).

No race between history and live frames: a socket is registered for pushes *before*
its history is read, and pushes to it wait in a backlog until the history frame is
out. A reply pushed while the page connects is either in the history (the outbox
marks it ``sending`` before it pushes) or follows it; the page drops duplicates by id.

A frame that cannot be used is answered with an ``error`` frame and logged
(rate-limited); the connection stays open. Pace (:mod:`connectors.webchat.pacing`):
messages over the visitor's allowance get ``error`` with ``retry_after``; other frames
over theirs are dropped and logged, except ``older``, which the page waits for: it gets an
empty ``older`` with ``retry_after``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from connectors.base import IngestFn
from connectors.rejections import RejectionLog, is_permanent, printable
from connectors.webchat.history import FilesFn, history_page, page_frame, parse_cursor, wire
from connectors.webchat.identity import chat_id_for
from connectors.webchat.pacing import Pacing
from connectors.webchat.pages import Pages, send_error
from connectors.webchat.receipts import Receipts
from connectors.webchat.session import MAX_NAME, Session, field_text, system_data
from storage.constants import DELIVERED, READ
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.inputs import Inbound
from storage.ports import ConnectorStore

log = logging.getLogger(__name__)

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 10_000
MAX_WS_MESSAGE = 64 * 1024
MAX_RECEIPT_IDS = 200
TRY_AGAIN_LATER = 1013  # websocket close code: the server asks the client to come back later

# (socket, hello frame, peer) → the visitor's token, or None when refused (the refusal
# was sent and the socket closed with TRY_AGAIN_LATER).
Admit = Callable[[web.WebSocketResponse, dict[str, Any], str | None], Awaitable[str | None]]


def client_id_ok(value: str) -> bool:
    """A page's idempotency key for one message (or file) of the visitor."""
    return bool(CLIENT_ID_RE.match(value))


class VisitorSockets:
    """The visitors' sockets of one web chat channel."""

    def __init__(self, store: ConnectorStore, channel_id: int, channel_name: str, *,
                 pages: Pages, pacing: Pacing, receipts: Receipts, ingest: IngestFn,
                 files: Callable[[], FilesFn | None], rejections: RejectionLog,
                 closes: RejectionLog) -> None:
        self.store = store
        self.channel_id = channel_id
        self.channel_name = channel_name
        self.pages = pages
        self.pacing = pacing
        self.receipts = receipts
        self.ingest = ingest
        self.files = files
        self.rejections = rejections
        self.closes = closes

    async def serve(self, request: web.Request, admit: Admit) -> web.WebSocketResponse:
        """One visitor's socket, until it closes. When it closes for a reason other than
        the page leaving, the reason is logged."""
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
                session = await self._frame(ws, session, msg.data, peer, admit)
                if ws.closed:
                    break
        finally:
            if session is not None:
                self.pages.forget(session)
            self._log_close(ws, peer)
        return ws

    async def _frame(self, ws: web.WebSocketResponse, session: Session | None, raw: str,
                     peer: str | None, admit: Admit) -> Session | None:
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
            return await self._hello(ws, data, peer, admit)
        if session is None:
            await self._refuse(ws, peer, _("Say hello first."))
        elif kind == "message":
            await self._message(session, data, peer)
        elif (wait := self.pacing.frames.take(session.chat_id)) > 0:
            self.rejections.reject(f"too many {printable(str(kind), 20)} frames from one "
                                   f"visitor", peer=peer)
            if kind == "older":  # the page asks for no other page until this one answers
                await self.pages.send(session, {"type": "older", "messages": [],
                                                "retry_after": max(1, math.ceil(wait))})
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
            return  # closed by the admission, whose refusal was logged with its reason
        if error is not None or (code is not None and code not in (1000, 1001, 1005)):
            reason = f"{type(error).__name__}: {error}" if error is not None else "closed"
            self.closes.reject(f"code {code}: {reason}", peer=peer)
        else:
            log.debug("webchat %s: socket from %s closed (%s)", self.channel_name, peer, code)

    async def _hello(self, ws: web.WebSocketResponse, data: dict[str, Any], peer: str | None,
                     admit: Admit) -> Session | None:
        """Identify the visitor (``admit``), then send the history, then live frames."""
        token = await admit(ws, data, peer)
        if token is None:
            return None
        session = Session(ws, token, chat_id_for(token), field_text(data.get("name"), MAX_NAME),
                          system_data(data))
        # Registered before the history is read: a push from now on waits in the backlog.
        self.pages.add(session)
        await self.pages.send(session, {"type": "welcome", "token": token})
        page = await asyncio.to_thread(history_page, self.store, self.channel_id,
                                       session.chat_id)
        await self.pages.send(session, page_frame("history", page, self.files()))
        await self.pages.go_live(session)
        return session

    async def _older(self, session: Session, data: dict[str, Any]) -> None:
        before = parse_cursor(data.get("before"))
        if before is None:
            return
        page = await asyncio.to_thread(history_page, self.store, self.channel_id,
                                       session.chat_id, before)
        await self.pages.send(session, page_frame("older", page, self.files()))

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
        if not isinstance(client_id, str) or not client_id_ok(client_id):
            await self._refuse(ws, peer, _("The message has no valid id."))
            return
        wait = self.pacing.messages.take(session.chat_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            limits = self.pacing.limits
            self.rejections.reject(
                f"a visitor sent more than {limits.visitor_burst} messages at once or "
                f"{limits.visitor_messages_per_second:g} a second (server."
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
            channel_id=self.channel_id, chat_id=session.chat_id, sender_id=session.chat_id,
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
        await self.pages.push(session.chat_id, wire(result.message, self.files()),
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

    async def _refuse(self, ws: web.WebSocketResponse, peer: str | None, text: str,
                      client_id: str | None = None, *, log_reason: str | None = None) -> None:
        """Refuse a frame for good: log why (rate-limited) and tell the page, which
        drops the message from its resend queue."""
        self.rejections.reject(log_reason or text, peer=peer)
        await send_error(ws, text, client_id)
