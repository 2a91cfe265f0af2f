"""A local fake of VK's API and event delivery, served over real HTTP on 127.0.0.1.

It answers ``POST|GET /method/{name}`` (form-encoded or query parameters) and a Bots
Long Poll server at ``/lp/{key}``, keeps what a community sees (the events queue, the
messages it sent, the ``random_id`` values already used) and records every call
(:attr:`FakeVk.calls`). It can also *deliver* events to a Callback API URL
(:meth:`FakeVk.deliver`) the way VK does.

Behaviour reproduced, with sources:

* Every answer has HTTP 200: ``{"response": …}`` or ``{"error": {"error_code",
  "error_msg", "request_params"}}``; the texts are those of ``VKCOM/vk-api-schema``
  ``errors.json`` (5 "User authorization failed", 6 "Too many requests per second", 8
  "Invalid request", 9 "Flood control", 100 "One of the parameters specified was missing
  or invalid", 900 "Can't send messages for users from blacklist", 901 "Can't send
  messages for users without permission", 902 "Can't send messages to this user due to
  their privacy settings", 914 "Message is too long"). Error 8 without ``v``
  (https://dev.vk.com/ru/reference/errors); JSON bodies are not read (methods take
  query or form parameters: https://dev.vk.com/ru/api/api-requests).
* ``messages.send(peer_id, message ≤ 9,000, random_id, reply_to?, forward?)`` →
  the new message id; ``random_id`` is required since 5.90 (error 100) and a repeated
  one sends nothing and answers the first message's id (``messages/methods.json``:
  "Unique identifier to avoid resending the message").
* Uploads (https://dev.vk.com/ru/api/upload/photo-in-message, #document-in-message):
  ``photos.getMessagesUploadServer`` / ``docs.getMessagesUploadServer(type=doc)`` →
  ``{"upload_url"}``; the multipart field ``photo`` / ``file`` there → ``{"server",
  "photo", "hash"}`` / ``{"file"}`` (or ``{"error": "…"}``); ``photos.saveMessagesPhoto``
  → ``[{"id", "owner_id", "access_key"}]``; ``docs.save`` → ``{"type": "doc", "doc"}``.
* ``users.get(user_ids)`` → ``[{"id", "first_name", "last_name", "can_access_closed",
  "is_closed"}]`` (``users/objects.json``).
* Bots Long Poll (https://dev.vk.com/ru/api/bots-long-poll/getting-started):
  ``groups.getLongPollServer(group_id)`` → ``{"key", "server", "ts"}``; ``GET
  {server}?act=a_check&key&ts&wait`` holds until an event or ``wait`` seconds and
  answers ``{"ts", "updates"}``; ``{"failed": 1, "ts"}`` / ``{"failed": 2}`` /
  ``{"failed": 3}``; ``ts`` is a string.
* Callback API (https://dev.vk.com/ru/api/callback/getting-started): each event
  ``{"type", "object", "group_id", "event_id", "v", "secret"}`` POSTed as JSON;
  anything but the text ``ok`` is a failure and the event is sent again with
  ``X-Retry-Counter``. ``message_new`` objects are ``{"message", "client_info"}``;
  message shapes as in ``callback/objects.json`` and ``messages/objects.json``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "vk1.a.community-token-for-tests"
GROUP_ID = 218_000_111
API_VERSION = "5.199"
TEXT_LIMIT = 9000

AUTH_FAILED = (5, "User authorization failed: invalid access_token (4).")
TOO_MANY = (6, "Too many requests per second")
FLOOD = (9, "Flood control")
BLACKLIST = (900, "Can't send messages for users from blacklist")
NO_PERMISSION = (901, "Can't send messages for users without permission")
PRIVACY = (902, "Can't send messages to this user due to their privacy settings")
TOO_LONG = (914, "Message is too long")


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, str]
    content_type: str


class FakeVk:
    def __init__(self, token: str = TOKEN, group_id: int = GROUP_ID) -> None:
        self.token = token
        self.group_id = group_id
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []  # long poll history; ts = index + 1
        self.lp_failures: list[dict[str, Any]] = []  # answers given instead of events
        self.key = secrets.token_hex(8)
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._random_ids: dict[tuple[int, int], int] = {}
        self.uploads: list[tuple[str, str, bytes]] = []  # (field, file name, bytes)
        self.upload_error: str | None = None  # the next upload answers {"error": …}
        self._saved: dict[str, tuple[str, int]] = {}  # upload handle → (kind, id)
        self._message_ids = itertools.count(1001)
        self._event_ids = itertools.count(1)
        self._wake = asyncio.Event()
        self.files: dict[str, tuple[bytes, str]] = {}  # served at /files/{name}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/method/{method}", self._method)
        app.router.add_get("/lp/{key}", self._long_poll)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/upload/{kind}", self._upload)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def close(self) -> None:
        self._wake.set()
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

    def fail(self, method: str, error: tuple[int, str], times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer this error (with HTTP 200)."""
        self._failures.setdefault(method, []).extend([error] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def message(self, text: str, *, from_id: int = 5550001, message_id: int | None = None,
                attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        mid = message_id if message_id is not None else next(self._message_ids)
        return {"date": 1_764_000_000, "from_id": from_id, "id": mid, "out": 0,
                "attachments": attachments or [], "conversation_message_id": mid - 1000,
                "fwd_messages": [], "important": False, "is_hidden": False,
                "peer_id": from_id, "random_id": 0, "text": text}

    def event(self, kind: str, obj: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
        event = {"group_id": self.group_id, "type": kind,
                 "event_id": f"{next(self._event_ids):040x}", "v": API_VERSION, "object": obj}
        if secret is not None:
            event["secret"] = secret
        return event

    def message_new(self, message: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
        client_info = {"button_actions": ["text"], "keyboard": True, "inline_keyboard": True,
                       "carousel": True, "lang_id": 0}
        return self.event("message_new", {"message": message, "client_info": client_info},
                          secret)

    def push(self, event: dict[str, Any]) -> str:
        """Queue an event for the long poll; returns its ``ts``."""
        self.events.append(event)
        self._wake.set()
        return str(len(self.events))

    async def deliver(self, url: str, event: dict[str, Any], retry: int = 0,
                      secret: str | None = None) -> tuple[int, str]:
        """POST one event to a Callback API URL as VK does; (HTTP status, body)."""
        if secret is not None:
            event = {**event, "secret": secret}
        headers = {"Content-Type": "application/json"}
        if retry:
            headers["X-Retry-Counter"] = str(retry)
        async with aiohttp.ClientSession() as session, session.post(
                url, data=json.dumps(event, ensure_ascii=False).encode(),
                headers=headers) as resp:
            return resp.status, await resp.text()

    # ---- methods -------------------------------------------------------------------------
    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = dict(request.query)
        if request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({k: str(v) for k, v in (await request.post()).items()})
        self.calls.append(Call(method, params, request.content_type))
        echo = [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
        if "v" not in params:
            return _error(8, "Invalid request: v (version) is required", echo)
        if params.get("access_token") != self.token:
            return _error(*AUTH_FAILED, echo)
        queued = self._failures.get(method)
        if queued:
            return _error(*queued.pop(0), echo)
        handler = {"messages.send": self._send, "users.get": self._users_get,
                   "groups.getLongPollServer": self._lp_server,
                   "photos.getMessagesUploadServer": self._upload_server("photo"),
                   "docs.getMessagesUploadServer": self._upload_server("doc"),
                   "photos.saveMessagesPhoto": self._save_photo,
                   "docs.save": self._save_doc}.get(method)
        if handler is None:
            return _error(3, "Unknown method passed", echo)
        return handler(params, echo)

    def _send(self, params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
        peer = params.get("peer_id", "")
        random_id = params.get("random_id", "")
        if not peer.lstrip("-").isdigit():
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "peer_id is undefined", echo)
        if not random_id.lstrip("-").isdigit():
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "random_id is a required parameter", echo)
        text = params.get("message", "")
        if not text and not params.get("attachment"):
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "message is empty or invalid", echo)
        if len(text) > TEXT_LIMIT:
            return _error(*TOO_LONG, echo)
        key = (int(peer), int(random_id))
        if int(random_id) != 0 and key in self._random_ids:
            return _ok(self._random_ids[key])  # a repeat: nothing sent again
        message_id = next(self._message_ids)
        if int(random_id) != 0:
            self._random_ids[key] = message_id
        self.sent.append({"id": message_id, "peer_id": int(peer), "text": text,
                          "random_id": int(random_id), **{k: params[k] for k in
                                                          ("reply_to", "forward", "attachment")
                                                          if k in params}})
        return _ok(message_id)

    def _upload_server(self, kind: str) -> Any:
        def handler(params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
            return _ok({"upload_url": f"{self.url}/upload/{kind}", "album_id": -64,
                        "group_id": self.group_id})
        return handler

    async def _upload(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        form = await request.post()
        field = "photo" if kind == "photo" else "file"
        sent = form.get(field)
        if not isinstance(sent, web.FileField):
            return web.json_response({"error": f"ERR_UPLOAD_FILE_NOT_UPLOADED: no {field}"})
        data = sent.file.read()
        self.uploads.append((field, sent.filename, data))
        if self.upload_error is not None:
            error, self.upload_error = self.upload_error, None
            return web.json_response({"error": error})
        handle = secrets.token_hex(6)
        self._saved[handle] = (kind, next(self._message_ids))
        if kind == "photo":
            return web.json_response({"server": 860321, "photo": json.dumps([{"photo": handle}]),
                                      "hash": secrets.token_hex(8)})
        return web.json_response({"file": handle})

    def _save_photo(self, params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
        try:
            handle = json.loads(params.get("photo", ""))[0]["photo"]
        except (ValueError, LookupError, TypeError):
            handle = ""
        if handle not in self._saved or not params.get("hash"):
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "photo is undefined", echo)
        return _ok([{"id": self._saved[handle][1], "owner_id": -self.group_id, "album_id": -64,
                     "access_key": "a1b2c3", "sizes": []}])

    def _save_doc(self, params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
        handle = params.get("file", "")
        if handle not in self._saved:
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "file is undefined", echo)
        return _ok({"type": "doc", "doc": {"id": self._saved[handle][1],
                                           "owner_id": -self.group_id,
                                           "title": params.get("title", "")}})

    def _users_get(self, params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
        ids = [int(i) for i in params.get("user_ids", "").split(",") if i.strip().isdigit()]
        return _ok([{**self.users.get(i, {"first_name": "DELETED", "last_name": ""}), "id": i,
                     "can_access_closed": True, "is_closed": False} for i in ids])

    def _lp_server(self, params: dict[str, str], echo: list[dict[str, str]]) -> web.Response:
        if params.get("group_id") != str(self.group_id):
            return _error(100, "One of the parameters specified was missing or invalid: "
                               "group_id is undefined", echo)
        return _ok({"key": self.key, "server": f"{self.url}/lp/{self.key}",
                    "ts": str(len(self.events) + 1)})

    async def _long_poll(self, request: web.Request) -> web.Response:
        self.calls.append(Call("a_check", dict(request.query), ""))
        if self.lp_failures:
            return web.json_response(self.lp_failures.pop(0))
        if request.match_info["key"] != self.key or request.query.get("key") != self.key:
            return web.json_response({"failed": 2})
        ts = request.query.get("ts", "")
        if not ts.isdigit() or int(ts) < 1:
            return web.json_response({"failed": 1, "ts": str(len(self.events) + 1)})
        wait = min(int(request.query.get("wait", "25") or 25), 90)
        if int(ts) > len(self.events):
            self._wake.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass
        updates = self.events[int(ts) - 1:]
        return web.json_response({"ts": str(len(self.events) + 1), "updates": updates})


def _ok(response: Any) -> web.Response:
    return web.json_response({"response": response})


def _error(code: int, message: str, echo: list[dict[str, str]] | None = None) -> web.Response:
    return web.json_response({"error": {"error_code": code, "error_msg": message,
                                        "request_params": echo or []}})
