"""Outbound Viber: ``send_message`` with the sender's name, limits kept, errors mapped.

* ``sender.name`` is at most 28 characters; a text at most 7,000 characters; a request
  at most 30 KB of UTF-8. A longer text is split at natural boundaries into parts that
  respect both (a part is cut further while its body would pass 30 KB).
* Viber has no idempotency key. When one operator message becomes several calls, the
  tokens already sent are kept in the store's small state table (as the Telegram
  connector does), so a retry after a failure in the middle continues where it stopped.
* Errors come with HTTP 200 and a non-zero ``status``: 12 (tooManyRequests) and 10
  (webhookNotSet) are transient, 2 (invalidAuthToken) too — fixing the token lets the
  message go; 5 (receiverNotRegistered), 6 (notSubscribed), 7, 11 and anything else are
  permanent, shown with Viber's own ``status_message``. Network errors are transient.
* Files: Viber takes media only as a link (``picture``/``file`` with ``media``): an
  attachment already at an ``https://`` address is sent as that link; a local file is
  published under ``public_url`` (``files.py``) and sent as its link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from connectors.base import PermanentSendError, SendError, SendResult, TransientSendError
from connectors.quoting import quote_of, with_quote
from connectors.telegram.send import split_text
from connectors.viber.api import (
    MAX_REQUEST_BYTES,
    ViberApi,
    ViberApiError,
    ViberNetworkError,
    encode,
)
from storage.i18n import _
from storage.rows import OutboxItem

TEXT_LIMIT = 7000
SENDER_NAME_LIMIT = 28
TRANSIENT = {12: 2.0, 10: 30.0, 2: 60.0}
IMAGE_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif"})
PICTURE_MAX_BYTES = 1024 * 1024
FILE_NAME_LIMIT = 256

GetProgress = Callable[[int], Awaitable[list[str]]]
SetProgress = Callable[[int, list[str]], Awaitable[None]]
Link = Callable[[int, Any], str]


def to_send_error(err: Exception) -> SendError:
    if isinstance(err, ViberApiError):
        if err.status in TRANSIENT:
            return TransientSendError(err.message, TRANSIENT[err.status])
        return PermanentSendError(err.message)
    return TransientSendError(str(err) or type(err).__name__)


def sender(name: str, avatar: str | None) -> dict[str, str]:
    found = {"name": name[:SENDER_NAME_LIMIT]}
    if avatar:
        found["avatar"] = avatar
    return found


def text_parts(text: str, envelope: dict[str, Any]) -> list[str]:
    """``text`` cut so each part is ≤ 7,000 characters and its request ≤ 30 KB."""
    parts: list[str] = []
    for part in split_text(text, TEXT_LIMIT):
        pending = [part]
        while pending:
            piece = pending.pop(0)
            if len(encode(_body(envelope, {"type": "text", "text": piece}))) <= MAX_REQUEST_BYTES or len(piece) < 2:
                parts.append(piece)
            else:
                pending[:0] = split_text(piece, max(1, len(piece) // 2 + 1))
    return parts


def _body(envelope: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    return {**envelope, "min_api_version": 1, **step}


def file_payload(attachment: Any, url: str) -> dict[str, Any]:
    """A ``picture`` (JPEG, PNG, GIF up to 1 MB) or ``file`` message for ``url``."""
    name, mime, size, _location = attachment
    if str(mime).lower() in IMAGE_MIMES and 0 < int(size or 0) <= PICTURE_MAX_BYTES:
        return {"type": "picture", "text": "", "media": url}
    if not size:
        raise PermanentSendError(_("Viber needs the size of {name} to send it.").format(
            name=name))
    return {"type": "file", "media": url, "size": int(size),
            "file_name": str(name)[:FILE_NAME_LIMIT] or "file"}


def public_link(attachment: Any) -> str:
    """An attachment already at a public https address is sent as that link."""
    location = str(attachment[3])
    if location.startswith("https://"):
        return location
    raise PermanentSendError(_("Viber takes files only as https links, and {name} is not at "
                               "a public https address.").format(name=attachment[0]))


async def send_item(api: ViberApi, item: OutboxItem, envelope: dict[str, Any],
                    get_progress: GetProgress, set_progress: SetProgress,
                    link: Link = lambda _index, att: public_link(att)) -> SendResult:
    """Deliver one outbox item as text parts then files (``envelope``: receiver, sender;
    ``link(index, attachment)``: the URL Viber fetches the file from)."""
    parts = text_parts(item.text or "", envelope)
    if parts:  # Viber has no reply field: a quote goes as the quoted line
        parts[0] = with_quote(parts[0], quote_of(item.meta), TEXT_LIMIT)
    steps: list[dict[str, Any]] = [{"type": "text", "text": part} for part in parts]
    steps += [file_payload(att, link(i, att)) for i, att in enumerate(item.attachments)]
    if not steps:
        raise PermanentSendError(_("Nothing to send: the message is empty."))
    several = len(steps) > 1
    done = await get_progress(item.message_id) if several and item.attempts > 1 else []
    tokens = list(done)
    remaining = steps[len(done):]
    for index, step in enumerate(remaining):
        try:
            tokens.append(await api.send_message(_body(envelope, step)))
        except (ViberApiError, ViberNetworkError) as err:
            raise to_send_error(err) from err
        if several and index < len(remaining) - 1:
            await set_progress(item.message_id, tokens)
    if several:
        await set_progress(item.message_id, [])
    return SendResult(external_id=tokens[0], extra_ids=tuple(tokens[1:]))
