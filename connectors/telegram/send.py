"""Outbound Telegram: split long text, send files, map Bot API errors to the outbox's classes.

* ``sendMessage`` takes 1–4,096 characters. Telegram counts Unicode code points, not
  UTF-16 units (measured against the live API: FerroxLabs/wayland issue #934), so
  :func:`split_text` counts ``len(str)``, cutting at a paragraph, then a line, then a
  space where it can. Every part's id is recorded (``SendResult.extra_ids``).
* Files: a local path is uploaded (multipart), a URL or a file_id passed as it is;
  images up to 10 MB go with ``sendPhoto``, anything else with ``sendDocument``. When
  the text fits a caption (1,024 characters) it goes as the first file's caption, in
  one message; otherwise the text is sent first, then the files.
* Quote-reply: ``item.meta["quote_external_id"]`` (``chat:message_id``, the form
  :mod:`connectors.telegram.parse` stores) becomes ``reply_parameters`` (Bot API 7.0+,
  https://core.telegram.org/bots/api#replyparameters) on the first message sent, with
  ``allow_sending_without_reply`` so a quoted message the client deleted does not stop
  the reply (and only the first part of a reply the store split, ``meta["part"]`` 1,
  quotes). A message id is only meaningful in its own chat: a quote from another chat
  (the task moved) is dropped rather than pointing at some other message of this one.
* Telegram has no idempotency key. When one operator message becomes several Bot API
  calls, the ids already sent are kept in the store's small state table, so a retry
  after a failure in the middle continues where it stopped instead of repeating parts.
* Errors: 429 → transient with ``parameters.retry_after``; 5xx, connection errors and
  timeouts → transient; a revoked token (401) → transient (fixing the token lets the
  message go); anything else Telegram refuses (403 blocked, 400 chat not found, bad
  request) → permanent with Telegram's own description.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from connectors.base import PermanentSendError, SendError, SendResult, TransientSendError
from connectors.telegram.api import BotApi, TelegramApiError, TelegramNetworkError, Upload
from storage.i18n import _
from storage.rows import OutboxItem

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024  # sendPhoto/sendDocument caption, characters
PHOTO_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto's limit; larger images go as documents
UNAUTHORIZED_RETRY = 60.0

Step = tuple[str, object, str | None]
GetProgress = Callable[[int], Awaitable[list[str]]]
SetProgress = Callable[[int, list[str]], Awaitable[None]]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` code points, at natural boundaries.

    Prefers a blank line, then a line break, then a space, in the second half of the
    window; only a word longer than the window is cut hard. Parts that would be only
    whitespace are dropped (Telegram refuses an empty text)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep, limit // 2)
            if at > 0:
                cut = at
                break
        if cut <= 0:
            head, rest = rest[:limit], rest[limit:]
        else:
            head, rest = rest[:cut], rest[cut:].lstrip("\n ")
        if head.strip():
            parts.append(head.rstrip())
    if rest.strip():
        parts.append(rest)
    return parts


def to_send_error(err: Exception) -> SendError:
    """The outbox's class for one Bot API failure, with Telegram's own reason."""
    if isinstance(err, TelegramNetworkError):
        return TransientSendError(str(err))
    if isinstance(err, TelegramApiError):
        if err.error_code == 429:
            return TransientSendError(err.description, err.retry_after or 1.0)
        if err.error_code >= 500 or err.error_code in (401, 409):
            retry = UNAUTHORIZED_RETRY if err.error_code == 401 else err.retry_after
            return TransientSendError(err.description, retry)
        return PermanentSendError(err.description)
    return TransientSendError(str(err) or type(err).__name__)


def safe_filename(name: str) -> str:
    """A file name safe inside a multipart header: file names go raw (UTF-8), so CR/LF,
    other control characters, quotes and backslashes are replaced."""
    cleaned = "".join("_" if (ord(c) < 32 or c in '"\\\x7f') else c for c in name).strip()
    return cleaned or "file"


def _looks_like_path(location: str) -> bool:
    return (location.startswith(("/", "~", "./", "../", "file://"))
            or bool(re.match(r"^[A-Za-z]:[\\/]", location)) or os.sep in location)


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


async def _file_for(name: str, mime: str, location: str) -> str | Upload:
    """A local file becomes an upload (read off the event loop); a URL or a file_id is
    passed to Telegram as it is."""
    if _is_url(location) or not _looks_like_path(location):
        if not location:
            raise PermanentSendError(_("The attachment {name} has no location.").format(name=name))
        return location
    path = Path(location.removeprefix("file://")).expanduser()
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as err:
        raise PermanentSendError(_("The attachment {name} cannot be read: {error}").format(
            name=name, error=err.strerror or err)) from err
    return Upload(filename=safe_filename(name or path.name), data=data, mime=mime or "application/octet-stream")


def _message_key(chat_id: str, result: object) -> str:
    if isinstance(result, dict):
        chat = result.get("chat")
        chat_key = chat.get("id", chat_id) if isinstance(chat, dict) else chat_id
        return f"{chat_key}:{result.get('message_id')}"
    return f"{chat_id}:?"


def reply_parameters(chat_id: str, quote: object) -> dict[str, Any] | None:
    """``reply_parameters`` quoting ``quote`` (``chat:message_id``) in ``chat_id``, or None
    when there is no quote or it belongs to another chat."""
    if not isinstance(quote, str) or not quote:
        return None
    chat, sep, message_id = quote.rpartition(":")
    if not sep or chat != str(chat_id) or not message_id.isdigit():
        return None
    return {"message_id": int(message_id), "allow_sending_without_reply": True}


def plan(item: OutboxItem) -> list[Step]:
    """The Bot API calls for one item, in order: ``("text", part, None)`` or
    ``("file", attachment, caption)``. Deterministic, so a retry resumes by index."""
    text = item.text or ""
    files = list(item.attachments)
    if files and text.strip() and len(text) <= CAPTION_LIMIT:
        return [("file", files[0], text)] + [("file", att, None) for att in files[1:]]
    steps: list[Step] = [("text", part, None) for part in split_text(text)]
    return steps + [("file", att, None) for att in files]


async def _send_step(api: BotApi, chat_id: str, step: Step,
                     reply: dict[str, Any] | None) -> object:
    kind, payload, caption = step
    if kind == "text":
        return await api.send_message(chat_id, str(payload), reply_parameters=reply)
    name, mime, _size, location = payload  # type: ignore[misc]
    file = await _file_for(str(name), str(mime), str(location))
    is_photo = (str(mime).lower() in PHOTO_MIMES
                and (not isinstance(file, Upload) or len(file.data) <= PHOTO_MAX_BYTES))
    method, field = ("sendPhoto", "photo") if is_photo else ("sendDocument", "document")
    return await api.send_file(method, field, chat_id, file, caption=caption,
                               reply_parameters=reply)


async def send_item(api: BotApi, item: OutboxItem, get_progress: GetProgress,
                    set_progress: SetProgress) -> SendResult:
    """Deliver one outbox item (see :func:`plan` and the module docstring)."""
    steps = plan(item)
    if not steps:
        raise PermanentSendError(_("Nothing to send: the message is empty."))
    several = len(steps) > 1
    done = await get_progress(item.message_id) if several and item.attempts > 1 else []
    ids = list(done)
    remaining = steps[len(done):]
    meta = item.meta or {}
    # A reply the store split into several messages ("part" n of "parts") quotes once.
    quote = (reply_parameters(item.chat_id, meta.get("quote_external_id"))
             if meta.get("part", 1) == 1 else None)
    for index, step in enumerate(remaining):
        first = not done and index == 0  # only the first message sent quotes
        try:
            result = await _send_step(api, item.chat_id, step, quote if first else None)
        except (TelegramApiError, TelegramNetworkError) as err:
            raise to_send_error(err) from err
        ids.append(_message_key(item.chat_id, result))
        if several and index < len(remaining) - 1:
            await set_progress(item.message_id, ids)
    if several and len(ids) > 1:
        await set_progress(item.message_id, [])  # delivered: forget the progress
    return SendResult(external_id=ids[0], extra_ids=tuple(ids[1:]))


