"""Pure functions that turn one VK event (Callback API or Bots Long Poll) into store inputs.

Both transports carry the same event envelope ``{"type", "object", "group_id",
"event_id", "v", "secret"?}`` (``VKCOM/vk-api-schema`` ``callback/objects.json``
``callback_base``; https://dev.vk.com/ru/api/community-events/json-schema):

* ``message_new``: ``object = {"message": {…}, "client_info": {…}}`` (API ≥ 5.103);
* ``message_edit``: ``object`` is the message itself;
* a message is ``{"id", "date", "peer_id", "from_id", "text", "attachments",
  "conversation_message_id", "geo"?}`` (``messages/objects.json``
  ``messages_message``).

The message key: ``id`` is unique within the community's messages, but in group chats
the bot sees ``id: 0``; there ``(peer_id, conversation_message_id)`` names the message.
So ``external_id`` is ``str(id)`` when it is non-zero, else ``"{peer_id}_{cmid}"``.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound

MESSAGE_EVENTS = ("message_new", "message_edit")


class ParseError(ValueError):
    """The event cannot be understood; ``str(err)`` says why."""


@dataclass(frozen=True)
class NewMessage:
    event_id: str
    inbound: Inbound


@dataclass(frozen=True)
class EditedMessage:
    event_id: str
    external_id: str
    text: str
    inbound: Inbound  # stored as new when the original predates the connector


@dataclass(frozen=True)
class Ignored:
    event_id: str
    kind: str
    reason: str = field(default="")


Parsed = NewMessage | EditedMessage | Ignored


def parse_event(event: Any, channel_id: int) -> Parsed:
    """One event → what to do with it; :class:`ParseError` with a reason if malformed."""
    if not isinstance(event, dict):
        raise ParseError(_("The VK event is not a JSON object."))
    kind = _str(event.get("type"))
    if not kind:
        raise ParseError(_("The VK event has no type."))
    event_id = _str(event.get("event_id"))
    obj = event.get("object")
    if kind in MESSAGE_EVENTS:
        message = obj.get("message", obj) if kind == "message_new" and isinstance(obj, dict) \
            else obj
        if _is_own(message):
            return Ignored(event_id, kind, _("the community's own message"))
    if kind == "message_new":
        return NewMessage(event_id, parse_message(message, channel_id))
    if kind == "message_edit":
        inbound = parse_message(message, channel_id)
        return EditedMessage(event_id, inbound.external_id or "", inbound.text, inbound)
    return Ignored(event_id, kind, _("an event type Switchboard does not handle"))


def _is_own(message: Any) -> bool:
    """The community's own message (``out: 1``, or written as a community: a negative
    ``from_id``): never a client's words, so never stored as one."""
    if not isinstance(message, dict):
        return False
    from_id = message.get("from_id")
    return message.get("out") == 1 or (_is_int(from_id) and from_id < 0)


def parse_message(message: Any, channel_id: int) -> Inbound:
    if not isinstance(message, dict):
        raise ParseError(_("The VK message is not a JSON object."))
    peer_id, from_id = message.get("peer_id"), message.get("from_id")
    if not _is_int(peer_id) or not _is_int(from_id) or not peer_id or not from_id:
        raise ParseError(_("The VK message has no peer_id or from_id."))
    message_id = message.get("id")
    cmid = message.get("conversation_message_id")
    if _is_int(message_id) and message_id > 0:
        external_id = str(message_id)
    elif _is_int(cmid) and cmid > 0:
        external_id = f"{peer_id}_{cmid}"
    else:
        raise ParseError(_("The VK message has neither id nor conversation_message_id."))
    text, attachments, system = _content(message)
    if not text and not attachments:
        text = _("[empty VK message]")
    if peer_id != from_id:
        system["peer_id"] = peer_id
    replied = message.get("reply_message")  # what the client answers (W1, issue 19.4)
    replied_id = replied.get("id") if isinstance(replied, dict) else None
    return Inbound(channel_id=channel_id, chat_id=str(peer_id), sender_id=str(from_id),
                   text=text, external_id=external_id, sent_at=_date(message.get("date")),
                   system_data=system, attachments=tuple(attachments),
                   reply_to_external_id=str(replied_id) if _is_int(replied_id) and replied_id > 0
                   else None)


def _content(message: dict) -> tuple[str, list[AttachmentIn], dict[str, Any]]:
    lines: list[str] = []
    attachments: list[AttachmentIn] = []
    system: dict[str, Any] = {}
    raw = message.get("attachments")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        kind = _str(item.get("type"))
        body = item.get(kind)
        found = _attachment(kind, body) if isinstance(body, dict) else None
        if found is not None:
            attachments.append(found)
            if kind == "sticker":
                lines.append(_("[sticker]"))
        elif kind == "video" and isinstance(body, dict):
            lines.append(_("[VK video: {title}]").format(title=_str(body.get("title")) or "?"))
        elif kind:
            lines.append(_("[VK attachment: {kind}]").format(kind=kind))
    geo = message.get("geo")
    coords = geo.get("coordinates") if isinstance(geo, dict) else None
    if isinstance(coords, dict) and _is_number(coords.get("latitude")) \
            and _is_number(coords.get("longitude")):
        where = f"{coords['latitude']}, {coords['longitude']}"
        lines.append(f"📍 {where}")
        system["location"] = where
    if isinstance(message.get("fwd_messages"), list) and message["fwd_messages"]:
        lines.append(_("[forwarded messages: {n}]").format(n=len(message["fwd_messages"])))
    text = _str(message.get("text"))
    extra = "\n".join(lines)
    return ("\n".join(p for p in (text, extra) if p)), attachments, system


def _attachment(kind: str, body: dict) -> AttachmentIn | None:
    if kind == "photo":
        sizes = [s for s in body.get("sizes") or [] if isinstance(s, dict) and _str(s.get("url"))]
        if not sizes:
            return None
        best = max(sizes, key=lambda s: _int(s.get("width")) * _int(s.get("height")))
        return AttachmentIn(name="photo.jpg", mime="image/jpeg", location=_str(best["url"]))
    if kind == "doc" and _str(body.get("url")):
        ext = _str(body.get("ext"))
        title = _str(body.get("title")) or (f"document.{ext}" if ext else "document")
        mime = mimetypes.guess_type(f"x.{ext}")[0] if ext else None
        return AttachmentIn(name=title, mime=mime or "application/octet-stream",
                            size=_int(body.get("size")), location=_str(body["url"]))
    if kind == "audio_message":
        url = _str(body.get("link_ogg")) or _str(body.get("link_mp3"))
        if not url:
            return None
        ogg = bool(_str(body.get("link_ogg")))
        return AttachmentIn(name="voice.ogg" if ogg else "voice.mp3",
                            mime="audio/ogg" if ogg else "audio/mpeg", location=url)
    if kind in ("sticker", "graffiti"):
        images = [i for i in body.get("images") or [] if isinstance(i, dict) and _str(i.get("url"))]
        url = (_str(max(images, key=lambda i: _int(i.get("width")))["url"]) if images
               else _str(body.get("url")))
        if not url:
            return None
        return AttachmentIn(name=f"{kind}.png", mime="image/png", location=url)
    return None


def _date(value: Any) -> datetime | None:
    if not _is_int(value) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: Any) -> int:
    return value if _is_int(value) and value > 0 else 0


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
