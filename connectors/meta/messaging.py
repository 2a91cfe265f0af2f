"""The ``entry[].messaging[]`` webhook envelope of Messenger and Instagram, as plain events.

Shapes (Messenger Platform webhook reference, https://developers.facebook.com/docs/
messenger-platform/reference/webhook-events/ — ``messages``, ``message_echoes``,
``message_deliveries``, ``message_reads``, ``message_edits``, ``messaging_postbacks``;
Instagram Messaging webhooks, https://developers.facebook.com/docs/instagram-platform/
webhooks/ — ``messages`` with ``is_echo`` / ``is_deleted`` / ``is_unsupported``,
``messaging_seen``):

``{"object": "page"|"instagram", "entry": [{"id", "time", "messaging": [{"sender": {"id"},
"recipient": {"id"}, "timestamp", "message": {"mid", "text"?, "attachments"?:
[{"type", "payload": {"url"?}}], "is_echo"?, "is_deleted"?, "reply_to"?}}]}]}``

* Messenger ``delivery`` is ``{"mids"?, "watermark"}`` — ``mids`` may be missing;
  ``read`` is ``{"watermark"}`` only: everything sent before it was read.
* Instagram ``read`` is ``{"mid"}`` (no delivery receipts); an unsent message arrives
  as a ``message`` with ``is_deleted: true``; echoes of the page's own sends carry
  ``is_echo: true`` and must never be taken for the client's words.
* Timestamps are milliseconds. Ids are page-scoped (PSID / IGSID).

:func:`parse_envelope` never raises except :class:`ParseError` for a body that is not
this envelope at all; a single event it cannot use becomes :class:`Ignored`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.i18n import _


class ParseError(ValueError):
    """The body is not a messaging envelope; ``str(err)`` says why."""


@dataclass(frozen=True)
class Attachment:
    kind: str  # image, video, audio, file, share, story_mention, fallback, …
    url: str = ""
    title: str = ""


@dataclass(frozen=True)
class Incoming:
    """The client wrote (a message or a postback button)."""

    mid: str
    sender: str
    recipient: str
    sent_at: datetime | None
    text: str
    attachments: tuple[Attachment, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # reply_to, quick-reply payload


@dataclass(frozen=True)
class Echo:
    mid: str
    recipient: str


@dataclass(frozen=True)
class Deleted:
    mid: str
    sender: str


@dataclass(frozen=True)
class Edited:
    mid: str
    sender: str
    text: str


@dataclass(frozen=True)
class Delivered:
    sender: str
    mids: tuple[str, ...]
    watermark: datetime | None


@dataclass(frozen=True)
class Read:
    sender: str
    mid: str | None
    watermark: datetime | None


@dataclass(frozen=True)
class Ignored:
    reason: str


Event = Incoming | Echo | Deleted | Edited | Delivered | Read | Ignored


def millis(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _id(obj: Any) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def parse_envelope(body: Any, expected_object: str) -> list[tuple[str, Event]]:
    """``(entry id, event)`` for every ``messaging`` item of the body."""
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise ParseError(_("The body is not a webhook envelope (no entry list)."))
    if body.get("object") != expected_object:
        raise ParseError(_("The webhook is for {got!r}, not {expected!r}.").format(
            got=body.get("object"), expected=expected_object))
    events: list[tuple[str, Event]] = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        entry_id = _id(entry)
        items = entry.get("messaging")
        for item in items if isinstance(items, list) else []:
            events.append((entry_id, parse_item(item)))
    return events


def parse_item(item: Any) -> Event:
    if not isinstance(item, dict):
        return Ignored(_("not an object"))
    sender, recipient = _id(item.get("sender")), _id(item.get("recipient"))
    sent_at = millis(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict):
        return _message(message, sender, recipient, sent_at)
    if isinstance(item.get("message_edit"), dict):
        edit = item["message_edit"]
        mid, text = edit.get("mid"), edit.get("text")
        if isinstance(mid, str) and mid and isinstance(text, str):
            return Edited(mid, sender, text)
        return Ignored(_("an edit without mid or text"))
    if isinstance(item.get("delivery"), dict):
        delivery = item["delivery"]
        mids = delivery.get("mids")
        ids = tuple(m for m in mids if isinstance(m, str)) if isinstance(mids, list) else ()
        return Delivered(sender, ids, millis(delivery.get("watermark")))
    if isinstance(item.get("read"), dict):
        read = item["read"]
        mid = read.get("mid")
        return Read(sender, mid if isinstance(mid, str) and mid else None,
                    millis(read.get("watermark")))
    if isinstance(item.get("postback"), dict):
        postback = item["postback"]
        title = str(postback.get("title") or postback.get("payload") or "")
        mid = postback.get("mid")
        if not sender or not title:
            return Ignored(_("a postback without sender or title"))
        key = mid if isinstance(mid, str) and mid else f"postback:{sender}:{item.get('timestamp')}"
        return Incoming(key, sender, recipient, sent_at, title,
                        data={"postback_payload": postback.get("payload")})
    kinds = ", ".join(sorted(k for k in item if k not in ("sender", "recipient", "timestamp")))
    return Ignored(_("unhandled event: {kinds}").format(kinds=kinds or "-"))


def _message(message: dict[str, Any], sender: str, recipient: str,
             sent_at: datetime | None) -> Event:
    mid = message.get("mid")
    if not isinstance(mid, str) or not mid:
        return Ignored(_("a message without mid"))
    if message.get("is_echo"):
        return Echo(mid, recipient)
    if message.get("is_deleted"):
        return Deleted(mid, sender)
    if not sender:
        return Ignored(_("a message without sender"))
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    attachments: list[Attachment] = []
    for att in message.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        payload = att.get("payload") if isinstance(att.get("payload"), dict) else {}
        url = payload.get("url") if isinstance(payload.get("url"), str) else ""
        attachments.append(Attachment(str(att.get("type") or "file"), url,
                                      str(att.get("title") or payload.get("title") or "")))
    data: dict[str, Any] = {}
    if isinstance(message.get("reply_to"), dict) and message["reply_to"].get("mid"):
        data["reply_to"] = message["reply_to"]["mid"]
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and quick.get("payload"):
        data["quick_reply"] = quick["payload"]
    if not text and not attachments:
        text = (_("[A message this app cannot show]") if message.get("is_unsupported")
                else _("[An empty message]"))
    return Incoming(mid, sender, recipient, sent_at, text, tuple(attachments), data)
