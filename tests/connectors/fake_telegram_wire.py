"""Wire pieces of the fake Bot API (:mod:`tests.connectors.fake_telegram`): the error
texts, the request record, body parsing and the answer envelope. Sources are cited in
the fake's module docstring."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "123456789:AAHfakeTOKENforTESTSonly_0123456789ab"
CONFLICT_POLL = ("Conflict: terminated by other getUpdates request; make sure that only one "
                 "bot instance is running")
CONFLICT_WEBHOOK = ("Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first")
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
BAD_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_TYPES = ("message", "edited_message", "channel_post", "edited_channel_post",
                "callback_query", "inline_query", "my_chat_member", "chat_member")


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request the fake received."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    error_code: int
    description: str
    retry_after: int | None = None
    html: bool = False
    after: int = 0  # calls of the method let through before this failure


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    ctype = request.content_type
    if ctype == "application/json":
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as err:
                raise ValueError("can't parse JSON object") from err
            if not isinstance(body, dict):
                raise ValueError("can't parse JSON object")
            params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                params[key] = _decode_form_value(key, str(value))
    return params, files


def _decode_form_value(key: str, value: str) -> Any:
    """Form bodies carry arrays and objects JSON-serialized (e.g. ``allowed_updates``)."""
    if key in ("allowed_updates", "reply_markup", "entities", "reply_parameters") and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body)


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def reply_to(chat: dict[str, Any], existing: set[int], params: dict[str, Any]
             ) -> tuple[dict[str, Any], web.Response | None]:
    """``reply_to_message`` for a sent message from its ``reply_parameters``, or the
    documented refusal (``existing``: the message ids of the chat)."""
    raw = params.get("reply_parameters")
    if raw is None:
        return {}, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict) or not isinstance(raw.get("message_id"), int):
        return {}, _error(400, "Bad Request: can't parse reply parameters JSON object")
    if raw["message_id"] in existing:
        return {"reply_to_message": {"message_id": raw["message_id"], "chat": chat}}, None
    if _truthy(raw.get("allow_sending_without_reply")):
        return {}, None
    return {}, _error(400, REPLY_NOT_FOUND)
