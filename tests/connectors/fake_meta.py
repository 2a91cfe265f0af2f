"""A local fake of Meta's Graph API (WhatsApp Cloud API, Messenger, Instagram), for tests.

Served over real HTTP on 127.0.0.1; one instance plays one platform
(``FakeMeta("whatsapp" | "facebook" | "instagram")``). Every request is recorded
(:attr:`FakeMeta.calls`); failures can be scripted (:meth:`FakeMeta.fail_next`); and it
posts signed webhooks to the connector (:meth:`FakeMeta.deliver`), recording the answers.

Behaviour reproduced, with sources:

* Auth: ``Authorization: Bearer``; a wrong token → HTTP 401 ``{"error": {"message":
  "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException",
  "code": 190, "fbtrace_id"}}``, none → 400 code 104 — Graph API "Handling Errors"
  (developers.facebook.com/docs/graph-api/guides/error-handling).
* WhatsApp send ``POST /{v}/{phone_number_id}/messages`` → ``{"messaging_product",
  "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid…"}]}`` (templates add
  ``"message_status": "accepted"``) — Cloud API messages reference; pywa
  ``tests/data`` samples. Text over 4,096 characters → 100 ``(#100) Param text['body']
  must be at most 4096 characters long.``
* WhatsApp window: a non-template message to a user who has not written within 24 hours
  fails with 131047 ``Re-engagement message`` (``error_data.details``: "Message failed to
  send because more than 24 hours have passed since the customer last replied to this
  number.") — by default *asynchronously* (the send is accepted, then a ``failed``
  status webhook carries the error), or synchronously as HTTP 400 (``window_sync``) —
  Cloud API error codes page; both seen in production (shared/docs/channels.md).
* WhatsApp 130429 ``Rate limit hit`` arrives with HTTP **400** (subcode 2494055).
* Media: ``GET /{v}/{media_id}`` → ``{"messaging_product", "url", "mime_type", "sha256",
  "file_size": "<string>", "id"}``; the URL needs the same bearer token — Cloud API
  media reference ("Retrieve Media URL", "Download Media"). Upload ``POST
  /{phone_number_id}/media`` (multipart ``file``, ``type``, ``messaging_product``) →
  ``{"id"}``.
* Messenger / Instagram ``POST /{v}/me/messages`` → ``{"recipient_id", "message_id"}``;
  outside the 24-hour window (7 days with ``tag: HUMAN_AGENT``) → HTTP 400 ``(#10) This
  message is sent outside of allowed window.`` code 10, subcode 2018278 (Messenger) /
  2534022 (Instagram) — seen in botpress/botpress #4890 and microsoft/botframework-sdk
  #2050; Send API reference. Over the limit (2,000 characters; Instagram 1,000 UTF-8
  bytes) → ``(#100) Length of param message[text] must be less than or equal to N``.
* Webhooks: ``X-Hub-Signature-256: sha256=<hex>`` over the exact bytes sent, which are
  Meta's escaped-unicode serialisation (``\\u00e4``, ``\\/``) — "Validating Payloads" on
  developers.facebook.com/docs/graph-api/webhooks/getting-started.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from connectors.meta.hook import SIGNATURE_HEADER, sign

TOKEN = "EAAG-test-token"
APP_SECRET = "app-secret-123"
VERIFY_TOKEN = "verify-me"
PHONE_NUMBER_ID = "106540352242922"
PAGE_ID = "1234567890"
WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
WINDOW_SUBCODES = {"facebook": 2018278, "instagram": 2534022}
TEXT_LIMITS = {"whatsapp": 4096, "facebook": 2000, "instagram": 1000}


def graph_error(code: int, message: str, *, subcode: int | None = None, details: str = "",
                transient: bool | None = None, kind: str = "OAuthException") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code,
                             "fbtrace_id": "AbCdEf123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if transient is not None:
        error["is_transient"] = transient
    return {"error": error}


WA_WINDOW_DETAILS = ("Message failed to send because more than 24 hours have passed since "
                     "the customer last replied to this number.")
WA_WINDOW = graph_error(131047, "(#131047) Re-engagement message", details=WA_WINDOW_DETAILS)
WA_THROUGHPUT = graph_error(130429, "(#130429) Rate limit hit", subcode=2494055,
                            details="Cloud API message throughput has been reached.")
WA_UNDELIVERABLE = graph_error(131026, "(#131026) Message Undeliverable",
                               details="Message failed to send because of an unknown error "
                                       "with the recipient's phone number.")
FB_UNAVAILABLE = graph_error(551, "(#551) This person isn't available right now.",
                             subcode=1545041)
FB_TEMPORARY = graph_error(2, "An unexpected error has occurred. Please retry your request "
                              "later.", transient=True)


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None  # JSON, or a dict of form fields (file parts as bytes)


@dataclass
class Sent:
    to: str
    body: dict[str, Any]
    message_id: str


@dataclass
class FakeMeta:
    platform: str
    token: str = TOKEN
    app_secret: str = APP_SECRET
    phone_number_id: str = PHONE_NUMBER_ID
    page_id: str = PAGE_ID
    window_sync: bool = False  # WhatsApp 131047 as a 400 instead of a later status
    calls: list[Call] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)  # webhook answers' statuses
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name → data, mime
    media: dict[str, str] = field(default_factory=dict)  # WhatsApp media id → file name
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    last_inbound: dict[str, float] = field(default_factory=dict)  # user → unix time
    hook_url: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        self._failures: list[tuple[int, dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._later: list[asyncio.Task[int]] = []  # webhooks sent after an answer

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_route("*", "/{version}/{path:.*}", self._graph)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self.url

    async def close(self) -> None:
        for task in self._later:
            await asyncio.gather(task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- scripting -----------------------------------------------------------------------
    def fail_next(self, error: dict[str, Any], status: int = 400, times: int = 1) -> None:
        """The next ``times`` send calls answer ``error`` with HTTP ``status``."""
        self._failures += [(status, error)] * times

    def add_file(self, name: str, data: bytes, mime: str, media_id: str | None = None) -> str:
        """Serve a file; returns its URL (WhatsApp: also reachable through ``media_id``)."""
        self.files[name] = (data, mime)
        if media_id:
            self.media[media_id] = name
        return f"{self.url}/files/{name}"

    def calls_to(self, suffix: str, method: str = "POST") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # ---- webhooks ------------------------------------------------------------------------
    @staticmethod
    def serialise(body: Any) -> bytes:
        """Meta's wire form: ASCII with ``\\uXXXX`` escapes and escaped slashes."""
        return json.dumps(body, ensure_ascii=True, separators=(",", ":")).replace(
            "/", "\\/").encode()

    async def deliver(self, body: Any, *, secret: str | None = None,
                      signature: str | None = None) -> int:
        """POST one webhook body to :attr:`hook_url`, signed; returns the HTTP status."""
        assert self._session is not None and self.hook_url
        raw = self.serialise(body)
        for entry in body.get("entry", []) if isinstance(body, dict) else []:
            self._note_inbound(entry)
        header = signature if signature is not None else sign(
            secret if secret is not None else self.app_secret, raw)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: header}
        async with self._session.post(self.hook_url, data=raw, headers=headers) as resp:
            await resp.read()
            self.deliveries.append(resp.status)
            return resp.status

    def _note_inbound(self, entry: dict[str, Any]) -> None:
        """A user who writes opens (or renews) their window."""
        for change in entry.get("changes", []):
            for msg in change.get("value", {}).get("messages", []):
                self.last_inbound[str(msg["from"])] = float(msg.get("timestamp", time.time()))
        for item in entry.get("messaging", []):
            msg = item.get("message") or {}
            if msg and not msg.get("is_echo"):
                self.last_inbound[str(item["sender"]["id"])] = item.get(
                    "timestamp", time.time() * 1000) / 1000

    # ---- the Graph API -------------------------------------------------------------------
    async def _graph(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body: Any = None
        if request.method == "POST":
            if request.content_type.startswith("multipart/"):
                body = {}
                async for part in await request.multipart():
                    data = await part.read()  # type: ignore[union-attr]
                    body[part.name] = (data if part.filename  # type: ignore[union-attr]
                                       else data.decode())
                    if part.filename:  # type: ignore[union-attr]
                        body["_filename"] = part.filename  # type: ignore[union-attr]
            else:
                body = await request.json()
        self.calls.append(Call(request.method, "/" + path, dict(request.headers), body))
        auth = request.headers.get("Authorization", "")
        if not auth:
            return _json(graph_error(104, "An access token is required to request this "
                                          "resource."), 400)
        if auth != f"Bearer {self.token}":
            return _json(graph_error(190, "Invalid OAuth access token - Cannot parse access "
                                          "token"), 401)
        if request.method == "GET":
            return self._get(path)
        if self._failures and path.endswith("messages"):
            status, error = self._failures.pop(0)
            return _json(error, status)
        if self.platform == "whatsapp" and path == f"{self.phone_number_id}/messages":
            return await self._wa_send(body)
        if self.platform == "whatsapp" and path == f"{self.phone_number_id}/media":
            media_id = self.new_id("media")
            self.add_file(media_id, body["file"], body.get("type", ""), media_id)
            return _json({"id": media_id})
        if self.platform != "whatsapp" and path == "me/messages":
            return self._page_send(body)
        return _json(graph_error(100, f"Unsupported post request. Object with ID '{path}' "
                                      "does not exist", subcode=33), 400)

    def _get(self, path: str) -> web.Response:
        if path == self.phone_number_id:
            return _json({"display_phone_number": "+1 555-010-0000",
                          "verified_name": "Switchboard Test", "id": path})
        if path == "me":
            return _json({"id": self.page_id, "name": "Switchboard Page"})
        if path in self.media:
            data, mime = self.files[self.media[path]]
            return _json({"messaging_product": "whatsapp", "url": f"{self.url}/files/"
                          f"{self.media[path]}", "mime_type": mime, "sha256": "x",
                          "file_size": str(len(data)), "id": path})
        if path in self.profiles:
            return _json({**self.profiles[path], "id": path})
        return _json(graph_error(100, f"Unsupported get request. Object with ID '{path}' "
                                      "does not exist", subcode=33, kind="GraphMethodException"),
                     400)

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.files:
            return web.Response(status=404)
        if self.platform == "whatsapp" and request.headers.get("Authorization") != (
                f"Bearer {self.token}"):
            return web.Response(status=401)
        data, mime = self.files[name]
        return web.Response(body=data, content_type=mime)

    def _window_open(self, user: str, seconds: float) -> bool:
        return time.time() - self.last_inbound.get(user, float("-inf")) <= seconds

    async def _wa_send(self, body: dict[str, Any]) -> web.Response:
        to, kind = str(body["to"]), body["type"]
        if kind == "text" and len(body["text"]["body"]) > TEXT_LIMITS["whatsapp"]:
            return _json(graph_error(100, "(#100) Param text['body'] must be at most 4096 "
                                          "characters long.", kind="OAuthException"), 400)
        closed = kind != "template" and not self._window_open(to, WINDOW)
        if closed and self.window_sync:
            return _json(WA_WINDOW, 400)
        wamid = self.new_id("wamid.HBgL")
        self.sent.append(Sent(to, body, wamid))
        answer: dict[str, Any] = {"messaging_product": "whatsapp",
                                  "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]}
        if kind == "template":
            answer["messages"][0]["message_status"] = "accepted"
        if closed:  # accepted now, failed later — how 131047 usually arrives
            status = self.wa_status(wamid, "failed", to, errors=[{
                "code": 131047, "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": WA_WINDOW_DETAILS}}])
            self._later.append(asyncio.create_task(self.deliver(self.wa_statuses([status]))))
        return _json(answer)

    def _page_send(self, body: dict[str, Any]) -> web.Response:
        if isinstance(body.get("recipient"), str):  # multipart: JSON fields, ``filedata``
            body = {**body, "recipient": json.loads(body["recipient"]),
                    "message": json.loads(body.get("message") or "{}")}
        to = str(body["recipient"]["id"])
        text = (body.get("message") if isinstance(body.get("message"), dict) else {}).get("text")
        limit = TEXT_LIMITS[self.platform]
        size = len(text.encode()) if self.platform == "instagram" and text else len(text or "")
        if size > limit:
            return _json(graph_error(100, "(#100) Length of param message[text] must be less "
                                          f"than or equal to {limit}"), 400)
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if not self._window_open(to, HUMAN_AGENT_WINDOW if tagged else WINDOW):
            return _json(graph_error(10, "(#10) This message is sent outside of allowed "
                                         "window.", subcode=WINDOW_SUBCODES[self.platform]), 400)
        mid = self.new_id("m_")
        self.sent.append(Sent(to, body, mid))
        return _json({"recipient_id": to, "message_id": mid})

    # ---- payload builders (WhatsApp) -----------------------------------------------------
    def wa_body(self, value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account", "entry": [{"id": "WABA-1", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550100000",
                             "phone_number_id": self.phone_number_id}, **value}}]}]}

    def wa_message(self, wa_id: str, kind: str, payload: dict[str, Any], *,
                   name: str = "Клиент", wamid: str | None = None,
                   at: float | None = None) -> dict[str, Any]:
        msg = {"from": wa_id, "id": wamid or self.new_id("wamid.in"),
               "timestamp": str(int(at if at is not None else time.time())), "type": kind,
               kind: payload}
        return self.wa_body({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                             "messages": [msg]})

    @staticmethod
    def wa_status(wamid: str, status: str, to: str,
                  errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                                "recipient_id": to}
        if errors:
            item["errors"] = errors
        return item

    def wa_statuses(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        return self.wa_body({"statuses": statuses})

    # ---- payload builders (Messenger / Instagram) ----------------------------------------
    def page_body(self, items: list[dict[str, Any]], entry_id: str | None = None
                  ) -> dict[str, Any]:
        return {"object": "page" if self.platform == "facebook" else "instagram",
                "entry": [{"id": entry_id or self.page_id, "time": int(time.time() * 1000),
                           "messaging": items}]}

    def page_item(self, sender: str, recipient: str, key: str, value: dict[str, Any],
                  at: float | None = None) -> dict[str, Any]:
        return {"sender": {"id": sender}, "recipient": {"id": recipient},
                "timestamp": int((at if at is not None else time.time()) * 1000), key: value}

    def page_message(self, sender: str, text: str | None = None, *, mid: str | None = None,
                     attachments: list[dict[str, Any]] | None = None,
                     at: float | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"mid": mid or self.new_id("m_in"), **extra}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        return self.page_body([self.page_item(sender, self.page_id, "message", message, at)])


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status,
                        content_type="application/json")
