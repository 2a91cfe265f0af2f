"""A web chat visitor over a real websocket, speaking the page's protocol (for tests).

It keeps what the page keeps: the token, the messages shown (by id), and the receipts
the server has not acknowledged yet, which it sends again after each reconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

RANK = {"delivered": 1, "read": 2}


class Visitor:
    def __init__(self, http: aiohttp.ClientSession, url: str, origin: str | None = None) -> None:
        self.http, self.url, self.origin = http, url, origin
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.history: list[dict[str, Any]] = []
        self.before: Any = None
        self.frames: list[dict[str, Any]] = []  # everything after the history frame
        self.unacked: dict[int, str] = {}  # receipts not acknowledged yet

    async def connect(self, token: str | None = None, **hello: Any) -> dict[str, Any]:
        headers = {"Origin": self.origin} if self.origin else {}
        self.ws = await self.http.ws_connect(self.url, headers=headers)
        await self.ws.send_json({"type": "hello", "token": token or self.token, **hello})
        welcome = await self.receive("welcome")
        self.token = welcome["token"]
        history = await self.receive("history")
        self.history, self.before, self.frames = history["messages"], history["before"], []
        return history

    async def receive(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        assert self.ws is not None
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"socket closed: {msg.type} {msg.data} {msg.extra}")
                data = msg.json()
                self.frames.append(data)
                if data["type"] == "receipt_ack":
                    self._acked(data)
                if data["type"] == kind:
                    return data

    async def say(self, text: str, client_id: str) -> dict[str, Any]:
        assert self.ws is not None
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        return await self.receive("ack")

    async def older(self) -> list[dict[str, Any]]:
        """Every message before the history, loading page after page."""
        assert self.ws is not None
        out: list[dict[str, Any]] = []
        while self.before is not None:
            await self.ws.send_json({"type": "older", "before": self.before})
            page = await self.receive("older")
            out[:0] = page["messages"]
            self.before = page["before"]
        return out

    async def receipt(self, ids: list[int], state: str) -> None:
        for i in ids:
            if RANK[state] > RANK.get(self.unacked.get(i, ""), 0):
                self.unacked[i] = state
        await self.resend_receipts()

    async def resend_receipts(self) -> None:
        assert self.ws is not None
        for state in RANK:
            ids = [i for i, s in self.unacked.items() if s == state]
            for start in range(0, len(ids), 200):
                await self.ws.send_json({"type": "receipt", "ids": ids[start:start + 200],
                                         "state": state})

    def _acked(self, frame: dict[str, Any]) -> None:
        for i in frame["ids"]:
            if RANK.get(self.unacked.get(i, ""), 0) <= RANK[frame["state"]]:
                self.unacked.pop(i, None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
