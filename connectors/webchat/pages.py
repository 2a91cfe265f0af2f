"""The open pages of each visitor, and how frames reach them.

A visitor may have several tabs open; each is a :class:`Session`. A live frame (a
reply, the echo of a message typed in another tab, a receipt acknowledged later) goes
to every open tab of the visitor. A tab whose history has not been sent yet keeps live
frames in its backlog, so they follow the history instead of racing it. A socket that
fails while being written to is forgotten (its page reconnects).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from connectors.webchat.session import Session

Frame = dict[str, Any]


class Pages:
    def __init__(self) -> None:
        self._by_chat: dict[str, set[Session]] = {}
        self._background: set[asyncio.Future[None]] = set()

    def add(self, session: Session) -> None:
        self._by_chat.setdefault(session.chat_id, set()).add(session)

    def forget(self, session: Session) -> None:
        sessions = self._by_chat.get(session.chat_id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._by_chat[session.chat_id]

    def of(self, chat_id: str) -> list[Session]:
        return list(self._by_chat.get(chat_id, ()))

    def all(self) -> list[Session]:
        return [s for group in self._by_chat.values() for s in group]

    async def close_all(self, code: int, message: bytes) -> None:
        sessions = self.all()
        self._by_chat.clear()
        if sessions:
            await asyncio.gather(*(s.ws.close(code=code, message=message) for s in sessions),
                                 return_exceptions=True)

    async def push(self, chat_id: str, frame: Frame, *, besides: Session | None = None) -> None:
        """A live frame to every open page of the visitor (but ``besides``)."""
        for session in self.of(chat_id):
            if session is not besides:
                await self.deliver(session, frame)

    def push_soon(self, chat_id: str, frame: Frame) -> None:
        """:meth:`push` from a callback on the loop (kept referenced until done)."""
        task = asyncio.ensure_future(self.push(chat_id, frame))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def deliver(self, session: Session, frame: Frame) -> None:
        """A live frame: to the socket, or to the backlog while its history is read."""
        if not session.live:
            session.backlog.append(frame)
            return
        await self.send(session, frame)

    async def go_live(self, session: Session) -> None:
        """The history is out: send what waited, in order, then send frames directly."""
        while session.backlog:
            await self.send(session, session.backlog.pop(0))
        session.live = True

    async def send(self, session: Session, frame: Frame) -> None:
        try:
            await session.ws.send_json(frame)
        except (ConnectionError, RuntimeError):
            self.forget(session)


async def send_error(ws: web.WebSocketResponse, text: str, client_id: str | None = None, *,
                     retry: bool = False, retry_after: int | None = None) -> None:
    """An ``error`` frame; ``retry`` tells the page whether sending again can help, and
    ``retry_after`` when."""
    frame: Frame = {"type": "error", "text": text, "retry": retry}
    if client_id:
        frame["id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = retry_after
    try:
        await ws.send_json(frame)
    except (ConnectionError, RuntimeError):
        pass
