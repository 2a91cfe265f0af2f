"""Pure functions that turn one Viber callback (a JSON dict) into what to do with it.

Shapes (https://developers.viber.com/docs/api/rest-bot-api/#callbacks; the request
classes and tests of ``Viber/viber-bot-python``):

* ``message``: ``{"event", "timestamp" (ms), "message_token", "sender": {"id", "name",
  "avatar"?, "language"?, "country"?, "api_version"?}, "message": {"type", …}}``; types
  ``text`` (``text``), ``picture`` (``media``, ``text`` caption, ``file_name``?),
  ``video`` (``media``, ``size``), ``file`` (``media``, ``size``, ``file_name``),
  ``sticker`` (``sticker_id``, ``media``?), ``contact`` (``contact: {name,
  phone_number}``), ``location`` (``location: {lat, lon}``), ``url`` (``media``);
* ``subscribed``: ``user: {id, name, …}``; ``unsubscribed``: ``user_id``;
  ``conversation_started``: ``user``, ``type``, ``context``, ``subscribed``;
* ``delivered`` / ``seen`` / ``failed``: ``message_token``, ``user_id`` (``failed``
  adds ``desc``); ``webhook``: the check ``set_webhook`` makes.

``message_token`` is an int64 above 2⁵³: it is taken as an exact integer (Python's JSON
parser never makes an integer literal a float) or a digit string, and kept as its
decimal string — the message's ``external_id``, unique per message, so a callback
Viber repeats stores one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.constants import DELIVERED, FAILED, READ
from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound

RECEIPTS = {"delivered": DELIVERED, "seen": READ, "failed": FAILED}


class ParseError(ValueError):
    """The callback cannot be understood; ``str(err)`` says why."""


@dataclass(frozen=True)
class NewMessage:
    inbound: Inbound


@dataclass(frozen=True)
class Receipt:
    message_token: str
    state: str
    reason: str = ""


@dataclass(frozen=True)
class Subscription:
    user_id: str
    subscribed: bool
    at: str = ""  # ISO time of the event


@dataclass(frozen=True)
class Ignored:
    event: str
    reason: str = field(default="")


Parsed = NewMessage | Receipt | Subscription | Ignored


def token_of(value: Any) -> str:
    """``message_token`` as an exact decimal string ("" when absent or not an integer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return ""


def parse_callback(data: Any, channel_id: int) -> Parsed:
    if not isinstance(data, dict):
        raise ParseError(_("The Viber callback is not a JSON object."))
    event = _str(data.get("event"))
    when = _date(data.get("timestamp"))
    if event == "message":
        return NewMessage(_message(data, channel_id, when))
    if event in RECEIPTS:
        token = token_of(data.get("message_token"))
        if not token:
            raise ParseError(_("The Viber {event} callback has no message_token.").format(
                event=event))
        return Receipt(token, RECEIPTS[event], _str(data.get("desc")) if event == "failed"
                       else "")
    if event in ("subscribed", "unsubscribed"):
        user = data.get("user")
        user_id = _str(user.get("id")) if isinstance(user, dict) else _str(data.get("user_id"))
        if not user_id:
            raise ParseError(_("The Viber {event} callback has no user id.").format(event=event))
        return Subscription(user_id, event == "subscribed", when.isoformat() if when else "")
    if event in ("webhook", "conversation_started"):
        return Ignored(event)
    return Ignored(event or "?", _("an event type Switchboard does not handle"))


def _message(data: dict, channel_id: int, when: datetime | None) -> Inbound:
    token = token_of(data.get("message_token"))
    sender = data.get("sender")
    sender_id = _str(sender.get("id")) if isinstance(sender, dict) else ""
    if not token:
        raise ParseError(_("The Viber message has no message_token."))
    if not sender_id:
        raise ParseError(_("The Viber message has no sender id."))
    assert isinstance(sender, dict)
    message = data.get("message")
    if not isinstance(message, dict):
        raise ParseError(_("The Viber message has no message object."))
    text, attachments, system = _content(message)
    for key in ("language", "country"):
        if _str(sender.get(key)):
            system[key] = _str(sender.get(key))
    if not text and not attachments:
        text = _("[unsupported Viber message: {kind}]").format(
            kind=_str(message.get("type")) or _("empty"))
    return Inbound(channel_id=channel_id, chat_id=sender_id, sender_id=sender_id, text=text,
                   external_id=token, sent_at=when, display_name=_str(sender.get("name")),
                   system_data=system, attachments=tuple(attachments))


MEDIA_DEFAULTS = {"picture": ("picture.jpg", "image/jpeg"), "video": ("video.mp4", "video/mp4"),
                  "file": ("file", "application/octet-stream"),
                  "sticker": ("sticker.png", "image/png")}


def _content(message: dict) -> tuple[str, list[AttachmentIn], dict[str, Any]]:
    kind = _str(message.get("type"))
    text = _str(message.get("text"))
    attachments: list[AttachmentIn] = []
    system: dict[str, Any] = {}
    media = _str(message.get("media"))
    if kind in MEDIA_DEFAULTS and media:
        name, mime = MEDIA_DEFAULTS[kind]
        attachments.append(AttachmentIn(name=_str(message.get("file_name")) or name, mime=mime,
                                        size=_int(message.get("size")), location=media))
        if kind == "sticker":
            text = text or _("[sticker]")
    elif kind == "url" and media:
        text = text if media in text else "\n".join(p for p in (text, media) if p)
    elif kind == "location":
        where = message.get("location")
        if isinstance(where, dict) and _is_number(where.get("lat")) \
                and _is_number(where.get("lon")):
            point = f"{where['lat']}, {where['lon']}"
            text = "\n".join(p for p in (f"📍 {point}", text) if p)
            system["location"] = point
    elif kind == "contact":
        contact = message.get("contact")
        if isinstance(contact, dict) and _str(contact.get("phone_number")):
            name, number = _str(contact.get("name")), _str(contact["phone_number"])
            line = f"📞 {name}, {number}" if name else f"📞 {number}"
            text = "\n".join(p for p in (line, text) if p)
            system["shared_contact"] = number
    return text, attachments, system


def _date(value: Any) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _str(value: Any) -> str:
    """A string field, made storable: lone surrogates and NUL become U+FFFD."""
    if not isinstance(value, str):
        return ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value.replace("\x00", "\ufffd")
