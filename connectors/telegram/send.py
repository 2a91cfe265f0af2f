"""Outbound Telegram: split long text, send files, map Bot API errors to the outbox's classes.

* ``sendMessage`` takes 1–4,096 characters. Telegram counts Unicode code points, not
  UTF-16 units (measured against the live API: FerroxLabs/wayland issue #934), so
  :func:`split_text` counts ``len(str)``, cutting at a paragraph, then a line, then a
  space where it can. Every part's id is recorded (``SendResult.extra_ids``).
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
import json
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from connectors.base import PermanentSendError, SendError, SendResult, TransientSendError
from connectors.telegram.api import BotApi, TelegramApiError, TelegramNetworkError, Upload
from storage.i18n import _
from storage.ops_outbox import OutboxItem

TEXT_LIMIT = 4096
PHOTO_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto's limit; larger images go as documents
UNAUTHORIZED_RETRY = 60.0

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


async def send_item(api: BotApi, item: OutboxItem, get_progress: GetProgress,
                    set_progress: SetProgress) -> SendResult:
    """Deliver one outbox item as text parts then files; see the module docstring."""
    steps: list[tuple[str, object]] = [("text", part) for part in split_text(item.text or "")]
    steps += [("file", att) for att in item.attachments]
    if not steps:
        raise PermanentSendError(_("Nothing to send: the message is empty."))
    several = len(steps) > 1
    done = await get_progress(item.message_id) if several and item.attempts > 1 else []
    ids = list(done)
    remaining = steps[len(done):]
    for index, (kind, payload) in enumerate(remaining):
        try:
            if kind == "text":
                result = await api.send_message(item.chat_id, str(payload))
            else:
                name, mime, size, location = payload  # type: ignore[misc]
                file = await _file_for(str(name), str(mime), str(location))
                is_photo = (str(mime).lower() in PHOTO_MIMES
                            and (not isinstance(file, Upload) or len(file.data) <= PHOTO_MAX_BYTES))
                method, field = ("sendPhoto", "photo") if is_photo else ("sendDocument", "document")
                result = await api.send_file(method, field, item.chat_id, file)
        except (TelegramApiError, TelegramNetworkError) as err:
            raise to_send_error(err) from err
        ids.append(_message_key(item.chat_id, result))
        if several and index < len(remaining) - 1:
            await set_progress(item.message_id, ids)
    if several and len(ids) > 1:
        await set_progress(item.message_id, [])  # delivered: forget the progress
    return SendResult(external_id=ids[0], extra_ids=tuple(ids[1:]))


def encode_progress(ids: list[str]) -> str:
    return json.dumps(ids)


def decode_progress(value: str | None) -> list[str]:
    try:
        ids = json.loads(value) if value else []
    except ValueError:
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []
