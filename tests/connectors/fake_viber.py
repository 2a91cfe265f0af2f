"""A local fake of the Viber REST bot API and its callbacks, over real HTTP on 127.0.0.1.

It answers ``POST /pa/{method}`` (``set_webhook``, ``get_account_info``,
``send_message``), keeps what a bot sees (its webhook, its subscribers, the messages it
sent), records every call (:attr:`FakeViber.calls`, raw bodies included) and delivers
signed callbacks to the webhook (:meth:`FakeViber.deliver`).

Behaviour reproduced, with sources:

* Calls carry ``X-Viber-Auth-Token``; every answer has HTTP 200 with ``{"status",
  "status_message", …}``; a wrong token is status 2 ``invalidAuthToken``; error answers
  also carry a ``message_token``; live answers read ``notSubscribed`` for status 6 and
  ``Too many requests`` for 12 (https://developers.viber.com/docs/api/rest-bot-api/
  #error-codes; ``../shared/docs/channels.md``). Scripted with :meth:`FakeViber.fail`.
* ``set_webhook(url, event_types, send_name, send_photo)`` first POSTs a signed
  ``{"event": "webhook", "timestamp", "chat_hostname", "message_token"}`` to the URL and
  answers status 1 ``Result[HttpRequest[POST …] …]``-style unless that got a 200
  (REST bot API "Setting a Webhook").
* Callbacks are signed with ``X-Viber-Content-Signature`` = hex HMAC-SHA256 of the raw
  body keyed with the token — ``Viber/viber-bot-python`` ``tests/api/test_api.py``
  (its vector is checked in ``test_viber_fake.py``). Shapes of ``message``,
  ``subscribed``, ``unsubscribed``, ``conversation_started``, ``delivered``, ``seen``,
  ``failed`` as in that library's ``tests/api/viber_requests/``; timestamps in ms.
* ``send_message``: ``receiver``, ``sender.name`` (≤ 28, required), ``type``; ``text``
  ≤ 7,000 characters; a request ≤ 30 KB of raw bytes (the fake answers status 3
  ``badData`` beyond either — the over-size answer is our assumption); an unknown
  receiver is status 5, an unsubscribed one status 6. ``message_token`` values are
  int64 above 2⁵³, as Viber's are.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "4b3e2ba6c7d1f0a9-91a4b7c2e3d4f5a6-0f1e2d3c4b5a6978"
MAX_BYTES = 30 * 1024
TEXT_LIMIT = 7000
SENDER_LIMIT = 28
FIRST_TOKEN = 5_491_237_945_587_413_063  # above 2**53: a float would lose it

NOT_REGISTERED = (5, "receiverNotRegistered")
NOT_SUBSCRIBED = (6, "notSubscribed")
TOO_MANY = (12, "Too many requests")
BAD_DATA = (3, "badData")


@dataclass(frozen=True)
class Call:
    method: str
    body: bytes
    payload: dict[str, Any]
    token: str


def sign(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class FakeViber:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        self.subscribers: dict[str, dict[str, Any]] = {}  # id → user
        self.unsubscribed: set[str] = set()
        self.webhook: str | None = None
        self.deliveries: list[tuple[str, int]] = []  # (event, HTTP status)
        self._failures: dict[str, list[list[Any]]] = {}  # [successes first, (status, text)]
        self._tokens = itertools.count(FIRST_TOKEN)
        self.files: dict[str, tuple[bytes, str]] = {}  # served at /files/{name}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/pa/{method}", self._dispatch)
        app.router.add_get("/files/{name}", self._file)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test controls -------------------------------------------------------------------
    def file_url(self, name: str, data: bytes, mime: str = "image/jpeg") -> str:
        """Serve ``data`` as a media CDN would; its URL (what an event carries)."""
        self.files[name] = (data, mime)
        return f"{self.url}/files/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found[0], content_type=found[1])

    def fail(self, method: str, error: tuple[int, str], times: int = 1, after: int = 0) -> None:
        """``times`` calls of ``method`` answer ``error`` (HTTP 200, non-zero status), once
        ``after`` more calls have succeeded."""
        queue = self._failures.setdefault(method, [])
        queue.extend([after if i == 0 else 0, error] for i in range(times))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def user(self, user_id: str, name: str) -> dict[str, Any]:
        user = {"id": user_id, "name": name, "avatar": "https://avatar.example/a.jpg",
                "language": "ru", "country": "RU", "api_version": 10}
        self.subscribers[user_id] = user
        return user

    def message(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        return {"event": "message", "timestamp": 1_764_000_000_123,
                "chat_hostname": "SN-CHAT-05_", "message_token": next(self._tokens),
                "sender": self.subscribers[user_id], "message": message, "silent": False}

    def event(self, event: str, **fields: Any) -> dict[str, Any]:
        return {"event": event, "timestamp": 1_764_000_100_000,
                "chat_hostname": "SN-CHAT-05_", **fields}

    async def deliver(self, event: dict[str, Any] | bytes, *, signature: str | None = "good",
                      url: str | None = None) -> int:
        """POST one callback to the webhook as Viber does; the HTTP status."""
        body = event if isinstance(event, bytes) else json.dumps(
            event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            headers["X-Viber-Content-Signature"] = sign(self.token, body)
        elif signature is not None:
            headers["X-Viber-Content-Signature"] = signature
        target = url or self.webhook
        assert target, "no webhook set"
        async with aiohttp.ClientSession() as session, session.post(
                target, data=body, headers=headers) as resp:
            await resp.read()
            name = event.get("event", "?") if isinstance(event, dict) else "?"
            self.deliveries.append((str(name), resp.status))
            return resp.status

    # ---- methods -------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = None
        token = request.headers.get("X-Viber-Auth-Token", "")
        self.calls.append(Call(method, body, payload if isinstance(payload, dict) else {}, token))
        if token != self.token:
            return _status(2, "invalidAuthToken")
        if not isinstance(payload, dict) or len(body) > MAX_BYTES:
            return _status(*BAD_DATA)
        queued = self._failures.get(method)
        if queued and queued[0][0] > 0:
            queued[0][0] -= 1
        elif queued:
            return _status(*queued.pop(0)[1], message_token=next(self._tokens))
        if method == "set_webhook":
            return await self._set_webhook(payload)
        if method == "get_account_info":
            return _status(0, "ok", id="pa:5461832698652146582", name="Магазин Ромашка",
                           uri="romashka", subscribers_count=len(self.subscribers))
        if method == "send_message":
            return self._send(payload)
        return _status(3, "badData")

    async def _set_webhook(self, payload: dict[str, Any]) -> web.Response:
        url = payload.get("url")
        if not isinstance(url, str) or not url:
            self.webhook = None
            return _status(0, "ok")
        check = self.event("webhook", message_token=next(self._tokens))
        try:
            status = await self.deliver(check, url=url)
        except aiohttp.ClientError:
            status = 0
        if status != 200:
            return _status(1, f"Result[HttpRequest[POST {url}] Error[Url is not reachable, "
                              f"status {status}]]")
        self.webhook = url
        return _status(0, "ok", event_types=payload.get("event_types") or [])

    def _send(self, payload: dict[str, Any]) -> web.Response:
        receiver = payload.get("receiver")
        sender = payload.get("sender")
        if not isinstance(receiver, str) or not receiver:
            return _status(4, "missingData")
        if not isinstance(sender, dict) or not isinstance(sender.get("name"), str) \
                or not sender["name"] or len(sender["name"]) > SENDER_LIMIT:
            return _status(*BAD_DATA)
        kind = payload.get("type")
        text = payload.get("text")
        if kind == "text" and (not isinstance(text, str) or not text
                               or len(text) > TEXT_LIMIT):
            return _status(*BAD_DATA)
        if receiver in self.unsubscribed:
            return _status(*NOT_SUBSCRIBED, message_token=next(self._tokens))
        if receiver not in self.subscribers:
            return _status(*NOT_REGISTERED, message_token=next(self._tokens))
        token = next(self._tokens)
        self.sent.append({**payload, "message_token": token})
        return _status(0, "ok", message_token=token, chat_hostname="SN-CHAT-05_")


def _status(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"status": status, "status_message": message, **extra})
