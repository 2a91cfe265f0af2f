"""A local fake of the Telegram Bot API, served over real HTTP on 127.0.0.1, for tests.

It answers ``POST /bot{token}/{method}`` (JSON, url-encoded or multipart bodies; query
parameters too; method names case-insensitive) with the documented envelope, and keeps
the state a bot sees: the update queue, the webhook, the chats that wrote to the bot,
the messages the bot sent. Every call is recorded (:attr:`FakeTelegram.calls`).

Behaviour reproduced, with sources:

* Envelope ``{"ok": true, "result": …}`` / ``{"ok": false, "error_code", "description",
  "parameters": {"retry_after"}}``; HTTP status = ``error_code``; methods are
  case-insensitive — Bot API "Making requests" and ``ResponseParameters``
  (https://core.telegram.org/bots/api#making-requests, #responseparameters; the same
  text is in grammyjs/types ``api.ts``).
* ``getUpdates(offset, limit 1–100 default 100, timeout, allowed_updates)``: updates
  with ``update_id`` < ``offset`` are confirmed and forgotten; a negative offset keeps
  the last ``-offset``; ``timeout`` holds the request until an update arrives or the
  time is up; ``allowed_updates`` is remembered when given — Bot API #getupdates (copied
  in docs.rs ``telers::methods::GetUpdates``).
* 409 ``Conflict: terminated by other getUpdates request; make sure that only one bot
  instance is running`` — the *earlier* of two overlapping polls is terminated
  (reported in eternnoir/pyTelegramBotAPI #543 and pengrad/java-telegram-bot-api #261);
  409 ``Conflict: can't use getUpdates method while webhook is active; use
  deleteWebhook to delete the webhook first`` (TelegramBotAPI/errors
  ``json/webhook-is-active.json``).
* ``setWebhook(url, secret_token, allowed_updates, drop_pending_updates)``; each
  delivery then carries ``X-Telegram-Bot-Api-Secret-Token``; a non-2xx answer is
  retried — Bot API #setwebhook. ``deleteWebhook``, ``getWebhookInfo``.
* Errors (TelegramBotAPI/errors ``json/*.json``): 401 ``Unauthorized``; 403
  ``Forbidden: bot was blocked by the user``; 400 ``Bad Request: chat not found``,
  ``Bad Request: message text is empty``, ``Bad Request: message is too long``; 429
  ``Too Many Requests: retry after N`` with ``parameters.retry_after``.
* ``sendMessage`` text is 1–4,096 characters counted as Unicode code points (measured
  against the live API in FerroxLabs/wayland #934).
* Files: ``getFile`` and ``GET /file/bot<token>/<file_path>`` — see
  :mod:`tests.connectors.fake_telegram_files` for the sources.
* ``reply_parameters`` (Bot API 7.0, https://core.telegram.org/bots/api#replyparameters):
  the sent message carries ``reply_to_message``; a ``message_id`` not in the chat is
  ``400 Bad Request: message to be replied not found`` unless
  ``allow_sending_without_reply`` is true.
* Update / Message / PhotoSize / Document / Voice / Video / Sticker / Location /
  Contact shapes as in aiogram ``tests/types/dataset.py`` and the Bot API reference.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

from tests.connectors.fake_telegram_files import FakeFiles
from tests.connectors.fake_telegram_wire import (
    BAD_FILE,
    BLOCKED,
    CAPTION_TOO_LONG,
    CHAT_NOT_FOUND,
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    DEFAULT_TOKEN,
    REPLY_NOT_FOUND,
    SECRET_HEADER,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    UPDATE_TYPES,
    Call,
    Failure,
    UploadedFile,
    _error,
    _float,
    _int,
    _ok,
    _read_params,
    _truthy,
    reply_to,
)

__all__ = ["FakeTelegram", "Call", "UploadedFile", "DEFAULT_TOKEN", "CONFLICT_POLL",
           "CONFLICT_WEBHOOK", "BLOCKED", "CHAT_NOT_FOUND", "TEXT_EMPTY", "TEXT_TOO_LONG",
           "CAPTION_TOO_LONG", "BAD_FILE", "SECRET_HEADER", "REPLY_NOT_FOUND"]


class FakeTelegram:
    """The fake server; ``await start()`` returns the base URL to give the connector."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, webhook_retry_delay: float = 0.05,
                 webhook_attempts: int = 5) -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True,
                         "first_name": "Switchboard Test", "username": "switchboard_test_bot",
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        self.revoked: set[str] = set()
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []  # not yet confirmed
        self.sent: list[dict[str, Any]] = []  # messages the bot sent
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.webhook: dict[str, Any] | None = None
        self.deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status) to the webhook
        self.allowed_updates: list[str] = []
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_attempts = webhook_attempts
        self._failures: dict[str, list[Failure]] = {}
        self._delays: dict[str, float] = {}
        self._update_ids = itertools.count(700_000_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._known_files: set[str] = set()
        self.files = FakeFiles(token)  # getFile and downloads
        self.messages: dict[int, set[int]] = {}  # message ids that exist, per chat
        self._wakeup = asyncio.Event()
        self._poll_waiter: asyncio.Future[str] | None = None
        self._pump_wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pump: asyncio.Task[None] | None = None
        self.url = ""

    # ---- server --------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self.files.download)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        self._pump = asyncio.create_task(self._webhook_pump())
        return self.url

    async def close(self) -> None:
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result("closing")  # end a held long poll now
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test controls -------------------------------------------------------------------
    def fail(self, method: str, error_code: int, description: str, *,
             retry_after: int | None = None, times: int = 1, html: bool = False,
             after: int = 0) -> None:
        """``times`` calls of ``method`` fail with this error, once ``after`` more calls
        have succeeded. ``html`` answers with an HTML page, as a proxy in front would."""
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(Failure(error_code, description, retry_after, html, after if i == 0 else 0)
                     for i in range(times))

    def delay(self, method: str, seconds: float) -> None:
        """Every later call of ``method`` waits ``seconds`` before it is answered."""
        self._delays[method.lower()] = seconds

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def user(self, user_id: int = 4242, first_name: str = "Анна", last_name: str = "Петрова",
             username: str = "anna_p", language_code: str = "ru") -> dict[str, Any]:
        u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            u["last_name"] = last_name
        if username:
            u["username"] = username
        if language_code:
            u["language_code"] = language_code
        return u

    def push(self, **payload: Any) -> dict[str, Any]:
        """Queue one update (``message=…``, ``edited_message=…``, ``callback_query=…``)."""
        update = {"update_id": next(self._update_ids), **payload}
        for key in ("message", "edited_message"):
            chat = payload.get(key, {}).get("chat") if isinstance(payload.get(key), dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                self.chats.setdefault(chat["id"], chat)
            self.files.register_message(payload.get(key))
        self.updates.append(update)
        self._wake()
        return update

    def message(self, text: str | None = None, *, user: dict[str, Any] | None = None,
                chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        """A Message as a private chat sends it (not queued)."""
        user = user or self.user()
        chat_id = chat_id if chat_id is not None else user["id"]
        chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}
        if user.get("username"):
            chat["username"] = user["username"]
        msg: dict[str, Any] = {"message_id": self._next_message_id(chat_id), "from": user,
                               "chat": chat, "date": int(time.time())}
        if text is not None:
            msg["text"] = text
        msg.update(content)
        return msg

    def push_message(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.push(message=self.message(text, **kwargs))

    def push_edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        edited = {**message, "edit_date": int(time.time())}
        edited.pop("caption" if "caption" in message else "text", None)
        edited["caption" if "caption" in message else "text"] = text
        return self.push(edited_message=edited)

    def file_id(self, prefix: str = "BQAC") -> str:
        fid = f"{prefix}fake{next(self._file_ids):06d}"
        self._known_files.add(fid)
        return fid

    def _next_message_id(self, chat_id: int) -> int:
        message_id = next(self._message_ids.setdefault(chat_id, itertools.count(1)))
        self.messages.setdefault(chat_id, set()).add(message_id)
        return message_id

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The client deleted a message (a later reply to it finds nothing)."""
        self.messages.get(chat_id, set()).discard(message_id)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()
        self._pump_wake.set()

    # ---- webhook delivery ----------------------------------------------------------------
    async def deliver(self, update: dict[str, Any]) -> int:
        """POST one update to the webhook as Telegram does; return the HTTP status."""
        assert self.webhook is not None and self._session is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook.get("secret_token"):
            headers[SECRET_HEADER] = self.webhook["secret_token"]
        try:
            async with self._session.post(self.webhook["url"], data=json.dumps(update),
                                          headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        self.deliveries.append((update["update_id"], status))
        return status

    async def _webhook_pump(self) -> None:
        while True:
            await self._pump_wake.wait()
            self._pump_wake.clear()
            attempts = 0
            while self.webhook and self.updates:
                update = self.updates[0]
                status = await self.deliver(update)
                if 200 <= status < 300 or attempts + 1 >= self.webhook_attempts:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                    attempts = 0
                else:
                    attempts += 1
                    await asyncio.sleep(self.webhook_retry_delay)

    # ---- request handling ----------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            params, files = await _read_params(request)
        except ValueError as err:
            return _error(400, f"Bad Request: {err}")
        self.calls.append(Call(method, token, params, files))
        if token != self.token or token in self.revoked:
            return _error(401, "Unauthorized")
        handler = self._handlers().get(method.lower())
        if handler is None:
            return _error(404, "Not Found: method not found")
        if self._delays.get(method.lower()):
            await asyncio.sleep(self._delays[method.lower()])
        queued = self._failures.get(method.lower())
        if queued and queued[0].after > 0:
            queued[0].after -= 1
        elif queued:
            f = queued.pop(0)
            if f.html:
                return web.Response(status=f.error_code, content_type="text/html",
                                    text=f"<html><body><h1>{f.error_code}</h1></body></html>")
            return _error(f.error_code, f.description, f.retry_after)
        return await handler(params, files)

    def _handlers(self) -> dict[str, Any]:
        return {"getme": self._get_me, "getupdates": self._get_updates,
                "setwebhook": self._set_webhook, "deletewebhook": self._delete_webhook,
                "getwebhookinfo": self._get_webhook_info, "sendmessage": self._send_message,
                "senddocument": self._send_document, "sendphoto": self._send_photo,
                "getfile": self._get_file}

    async def _get_file(self, params: dict[str, Any],
                        files: dict[str, UploadedFile]) -> web.Response:
        return await self.files.get_file(params)

    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> web.Response:
        return _ok(self.bot_user)

    async def _get_updates(self, params: dict[str, Any],
                           files: dict[str, UploadedFile]) -> web.Response:
        if self.webhook is not None:
            return _error(409, CONFLICT_WEBHOOK)
        offset = _int(params.get("offset"), 0)
        limit = min(max(_int(params.get("limit"), 100), 1), 100)
        timeout = max(_float(params.get("timeout"), 0.0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed]
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result("conflict")  # the earlier poll is terminated
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._poll_waiter = waiter
        deadline = time.monotonic() + timeout
        try:
            while True:
                ready = self._visible(limit)
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return _ok(ready)
                woken = asyncio.ensure_future(self._wakeup.wait())
                try:
                    await asyncio.wait({waiter, woken}, timeout=remaining,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woken.cancel()
                if waiter.done():
                    if waiter.result() == "closing":
                        return _ok([])
                    return _error(409, CONFLICT_POLL)
        finally:
            if self._poll_waiter is waiter:
                self._poll_waiter = None

    def _visible(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates or [t for t in UPDATE_TYPES if t != "chat_member"])
        out = [u for u in self.updates if any(k in allowed for k in u if k != "update_id")]
        return sorted(out, key=lambda u: u["update_id"])[:limit]

    async def _set_webhook(self, params: dict[str, Any],
                           files: dict[str, UploadedFile]) -> web.Response:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return _ok(True, "Webhook was deleted")
        secret = params.get("secret_token")
        if secret is not None and not (0 < len(str(secret)) <= 256 and all(
                c.isascii() and (c.isalnum() or c in "_-") for c in str(secret))):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        if _truthy(params.get("drop_pending_updates")):
            self.updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed]
        self.webhook = {"url": url, "secret_token": secret}
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result("conflict")
        self._pump_wake.set()
        return _ok(True, "Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any],
                              files: dict[str, UploadedFile]) -> web.Response:
        was = self.webhook is not None
        self.webhook = None
        if _truthy(params.get("drop_pending_updates")):
            self.updates.clear()
        return _ok(True, "Webhook was deleted" if was else "Webhook is already deleted")

    async def _get_webhook_info(self, params: dict[str, Any],
                                files: dict[str, UploadedFile]) -> web.Response:
        return _ok({"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self.updates)})

    def _chat_error(self, params: dict[str, Any]) -> tuple[int, web.Response | None]:
        raw = params.get("chat_id")
        if raw in (None, ""):
            return 0, _error(400, "Bad Request: chat_id is empty")
        chat_id = _int(raw, 0)
        if chat_id not in self.chats:
            return chat_id, _error(400, CHAT_NOT_FOUND)
        if chat_id in self.blocked:
            return chat_id, _error(403, BLOCKED)
        return chat_id, None

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        msg = {"message_id": self._next_message_id(chat_id), "from": self.bot_user,
               "chat": self.chats[chat_id], "date": int(time.time()), **content}
        self.sent.append(msg)
        return msg

    async def _send_message(self, params: dict[str, Any],
                            files: dict[str, UploadedFile]) -> web.Response:
        chat_id, err = self._chat_error(params)
        if err is not None:
            return err
        text = str(params.get("text") or "")
        if not text.strip():
            return _error(400, TEXT_EMPTY)
        if len(text) > 4096:
            return _error(400, TEXT_TOO_LONG)
        reply, err = reply_to(self.chats[chat_id], self.messages.get(chat_id, set()), params)
        if err is not None:
            return err
        return _ok(self._new_message(chat_id, text=text, **reply))

    def _file(self, params: dict[str, Any], files: dict[str, UploadedFile],
              field_name: str) -> tuple[UploadedFile | str | None, web.Response | None]:
        if field_name in files:
            return files[field_name], None
        value = str(params.get(field_name) or "")
        if value.startswith(("http://", "https://")) or value in self._known_files:
            return value, None
        return None, _error(400, BAD_FILE)

    async def _send_file(self, params: dict[str, Any], files: dict[str, UploadedFile],
                         field_name: str) -> web.Response:
        chat_id, err = self._chat_error(params)
        if err is not None:
            return err
        if len(str(params.get("caption") or "")) > 1024:
            return _error(400, CAPTION_TOO_LONG)
        source, err = self._file(params, files, field_name)
        if err is not None:
            return err
        reply, err = reply_to(self.chats[chat_id], self.messages.get(chat_id, set()), params)
        if err is not None:
            return err
        size = len(source.data) if isinstance(source, UploadedFile) else 1000
        fid = self.file_id("AgAC" if field_name == "photo" else "BQAC")
        content: dict[str, Any] = {}
        if field_name == "photo":
            content["photo"] = [{"file_id": fid, "file_unique_id": fid[-8:], "width": 90,
                                 "height": 90, "file_size": size}]
        else:
            content["document"] = {
                "file_id": fid, "file_unique_id": fid[-8:], "file_size": size,
                "file_name": source.filename if isinstance(source, UploadedFile) else "file",
                "mime_type": (source.content_type if isinstance(source, UploadedFile)
                              else "application/octet-stream")}
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        content.update(reply)
        return _ok(self._new_message(chat_id, **content))

    async def _send_document(self, params: dict[str, Any],
                             files: dict[str, UploadedFile]) -> web.Response:
        return await self._send_file(params, files, "document")

    async def _send_photo(self, params: dict[str, Any],
                          files: dict[str, UploadedFile]) -> web.Response:
        return await self._send_file(params, files, "photo")


