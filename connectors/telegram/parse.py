"""Pure functions that turn a Telegram ``Update`` (a JSON dict) into what the store takes.

Kept free of I/O so the poller, the webhook route and the property-based fuzz tests all
share one parser. :func:`parse_update` never raises on malformed input except
:class:`ParseError` with a clear reason; an update we do not handle (a callback query, a
service message) is :class:`Ignored`, acknowledged and logged, never a crash.

Shapes follow the Bot API reference (https://core.telegram.org/bots/api#update,
#message, #photosize, #document, #voice, #video, #sticker, #location, #contact):

* the message key is ``(chat.id, message_id)`` — ``message_id`` is unique only within a
  chat — so ``external_id = f"{chat.id}:{message_id}"``;
* ``photo`` is a list of sizes, smallest first: the largest is kept;
* media carry an optional ``caption``, which becomes the message text;
* a reply carries ``reply_to_message`` (the replied message, same chat):
  :attr:`NewMessage.reply_to` is its external id, for the thread to show what the client
  answers (:func:`reply_to_external_id`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound

# Update types the connector asks for (``allowed_updates``) and understands.
ALLOWED_UPDATES = ("message", "edited_message")

# Message keys that are service notices, not something the client wrote.
SERVICE_KEYS = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "channel_chat_created", "message_auto_delete_timer_changed", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "forum_topic_created", "forum_topic_edited",
    "forum_topic_closed", "forum_topic_reopened", "video_chat_started", "video_chat_ended",
    "video_chat_scheduled", "video_chat_participants_invited", "users_shared", "chat_shared",
    "write_access_allowed", "proximity_alert_triggered", "boost_added", "chat_background_set",
})

# Media kinds carried as one object with a ``file_id``: key → (default name, default mime).
FILE_KINDS: dict[str, tuple[str, str]] = {
    "document": ("document", "application/octet-stream"),
    "voice": ("voice.ogg", "audio/ogg"),
    "video": ("video.mp4", "video/mp4"),
    "audio": ("audio.mp3", "audio/mpeg"),
    "video_note": ("video_note.mp4", "video/mp4"),
    "animation": ("animation.mp4", "video/mp4"),
}

# Every key _content reads besides text and caption.
_CONTENT_KEYS = frozenset({"photo", *FILE_KINDS, "sticker", "location", "contact"})

MAX_SECRET_LENGTH = 256


class ParseError(ValueError):
    """The update cannot be understood; ``str(err)`` says why.

    ``update_id`` is set when the update at least had one, so a poller can confirm it
    and move on instead of receiving it forever."""

    def __init__(self, reason: str, update_id: int | None = None) -> None:
        super().__init__(reason)
        self.update_id = update_id


@dataclass(frozen=True)
class NewMessage:
    update_id: int
    inbound: Inbound
    reply_to: str | None = None  # external id of the message this one replies to


@dataclass(frozen=True)
class EditedMessage:
    """The client edited a message: the stored text becomes ``text``; ``inbound`` is the
    message as a new one, for an edit of a message we never stored."""

    update_id: int
    external_id: str
    text: str
    inbound: Inbound


@dataclass(frozen=True)
class Ignored:
    update_id: int
    reason: str
    kinds: tuple[str, ...] = field(default_factory=tuple)


ParsedUpdate = NewMessage | EditedMessage | Ignored


def check_secret(expected: str, got: str | None) -> bool:
    """Constant-time comparison of the webhook secret header with the configured one.

    An empty expected secret never matches: a webhook without a secret is refused
    rather than open to anyone who guesses the address."""
    if not expected or got is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                               got.encode("utf-8", "surrogatepass"))


def valid_secret_token(secret: str) -> bool:
    """Telegram allows 1–256 characters from ``A-Z a-z 0-9 _ -`` (setWebhook docs)."""
    return (0 < len(secret) <= MAX_SECRET_LENGTH
            and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret))


def parse_update(update: Any, channel_id: int = 0) -> ParsedUpdate:
    """Turn one Update dict into a new message, an edit, or an ignorable update."""
    if not isinstance(update, dict):
        raise ParseError(_("A Telegram update must be a JSON object."))
    update_id = update.get("update_id")
    if not _is_int(update_id):
        raise ParseError(_("The Telegram update has no integer update_id."))
    if "message" in update:
        message = update["message"]
        # Built once with what it answers (a dataclasses.replace per update cost ~20 µs).
        reply_to = reply_to_external_id(message) if isinstance(message, dict) \
            and "reply_to_message" in message else None
        inbound = _message(message, update_id, channel_id, reply_to)
        if inbound is None:
            return Ignored(update_id, _("a service message, nothing the client wrote"),
                           _service_kinds(message))
        return NewMessage(update_id, inbound, reply_to)
    if "edited_message" in update:
        inbound = _message(update["edited_message"], update_id, channel_id)
        if inbound is None:
            return Ignored(update_id, _("an edited service message"))
        return EditedMessage(update_id, inbound.external_id or "", inbound.text, inbound)
    kinds = tuple(sorted(_str(k) for k in update if k != "update_id"))
    return Ignored(update_id, _("an update type Switchboard does not handle"), kinds)


def reply_to_external_id(message: Any) -> str | None:
    """``chat:message_id`` of the message ``message`` replies to, in the same chat.

    ``reply_to_message`` is only ever a message of the same chat (a reply to another
    chat's message comes as ``external_reply``, which is not ours to link); a topic's
    first message is not a reply the client chose and is not reported either."""
    if not isinstance(message, dict):
        return None
    replied = message.get("reply_to_message")
    chat = message.get("chat")
    if not isinstance(replied, dict) or not isinstance(chat, dict) or not _is_int(chat.get("id")):
        return None
    replied_id = replied.get("message_id")
    if not _is_int(replied_id) or replied_id == message.get("message_thread_id"):
        return None
    replied_chat = replied.get("chat")
    if isinstance(replied_chat, dict) and replied_chat.get("id") != chat["id"]:
        return None
    return f"{chat['id']}:{replied_id}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _service_kinds(message: Any) -> tuple[str, ...]:
    if not isinstance(message, dict):
        return ()
    return tuple(sorted(k for k in message if k in SERVICE_KEYS))


def _message(message: Any, update_id: int, channel_id: int,
             reply_to: str | None = None) -> Inbound | None:
    if not isinstance(message, dict):
        raise ParseError(_("The Telegram message is not a JSON object."), update_id)
    message_id = message.get("message_id")
    chat = message.get("chat")
    sender = message.get("from")
    if not _is_int(message_id):
        raise ParseError(_("The Telegram message has no integer message_id."), update_id)
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise ParseError(_("The Telegram message has no chat id."), update_id)
    if not isinstance(sender, dict) or not _is_int(sender.get("id")):
        # Channel posts and anonymous admins have no sender: there is no client to answer.
        raise ParseError(_("The Telegram message has no sender (from.id)."), update_id)
    text, attachments, system, phone = _content(message, sender)
    if not text and not attachments:
        if _service_kinds(message):
            return None
        kinds = sorted(_str(k) for k in message if k not in _ENVELOPE_KEYS)
        text = _("[unsupported Telegram message: {kinds}]").format(
            kinds=", ".join(kinds) or _("empty"))
    first, last = _str(sender.get("first_name")), _str(sender.get("last_name"))
    username = _str(sender.get("username"))
    language = _str(sender.get("language_code"))
    if username:
        system["username"] = username
    if language:
        system["language"] = language
    if chat.get("type") not in (None, "private"):
        system["chat_type"] = _str(chat.get("type"))
        if chat.get("title"):
            system["chat_title"] = _str(chat.get("title"))
    return Inbound(
        channel_id=channel_id, chat_id=str(chat["id"]), sender_id=str(sender["id"]),
        text=text, external_id=f"{chat['id']}:{message_id}", sent_at=_date(message.get("date")),
        display_name=" ".join(p for p in (first, last) if p), username=username,
        phone=phone, system_data=system, attachments=tuple(attachments),
        reply_to_external_id=reply_to,
    )


_ENVELOPE_KEYS = frozenset({
    "message_id", "message_thread_id", "from", "sender_chat", "date", "chat", "edit_date",
    "forward_origin", "forward_from", "forward_from_chat", "forward_date", "reply_to_message",
    "entities", "caption_entities", "has_protected_content", "is_topic_message",
    "author_signature", "media_group_id", "via_bot", "link_preview_options", "reply_markup",
})


def _content(message: dict, sender: dict) -> tuple[str, list[AttachmentIn], dict[str, Any], str]:
    """Text, attachments, system data and a shared phone of one message."""
    text = _str(message.get("text")) or _str(message.get("caption"))
    attachments: list[AttachmentIn] = []
    system: dict[str, Any] = {}
    phone = ""
    if _CONTENT_KEYS.isdisjoint(message):  # plain text, the common case
        return text, attachments, system, phone
    photo = message.get("photo")
    if isinstance(photo, list):
        sizes = [p for p in photo if isinstance(p, dict) and _str(p.get("file_id"))]
        if sizes:
            best = max(sizes, key=lambda p: (_int(p.get("width")) * _int(p.get("height")),
                                             _int(p.get("file_size"))))
            attachments.append(AttachmentIn(name="photo.jpg", mime="image/jpeg",
                                            size=_int(best.get("file_size")),
                                            location=_str(best["file_id"])))
    for key, (default_name, default_mime) in FILE_KINDS.items():
        media = message.get(key)
        if isinstance(media, dict) and _str(media.get("file_id")):
            attachments.append(AttachmentIn(
                name=_str(media.get("file_name")) or default_name,
                mime=_str(media.get("mime_type")) or default_mime,
                size=_int(media.get("file_size")), location=_str(media["file_id"])))
    sticker = message.get("sticker")
    if isinstance(sticker, dict):
        emoji = _str(sticker.get("emoji"))
        text = text or emoji or _("[sticker]")
        if _str(sticker.get("file_id")):
            name, mime = "sticker.webp", "image/webp"
            if sticker.get("is_animated"):
                name, mime = "sticker.tgs", "application/x-tgsticker"
            elif sticker.get("is_video"):
                name, mime = "sticker.webm", "video/webm"
            attachments.append(AttachmentIn(name=name, mime=mime,
                                            size=_int(sticker.get("file_size")),
                                            location=_str(sticker["file_id"])))
    location = message.get("location")
    if isinstance(location, dict) and _is_number(location.get("latitude")) \
            and _is_number(location.get("longitude")):
        where = f"{location['latitude']}, {location['longitude']}"
        venue = message.get("venue")
        title = _str(venue.get("title")) if isinstance(venue, dict) else ""
        line = f"📍 {title} ({where})" if title else f"📍 {where}"
        text = f"{line}\n{text}" if text else line
        system["location"] = where
    contact = message.get("contact")
    if isinstance(contact, dict) and _str(contact.get("phone_number")):
        number = _str(contact["phone_number"])
        name = " ".join(p for p in (_str(contact.get("first_name")),
                                    _str(contact.get("last_name"))) if p)
        line = f"📞 {name}, {number}" if name else f"📞 {number}"
        text = f"{line}\n{text}" if text else line
        owner = contact.get("user_id")
        # The client's own number goes onto the contact; someone else's card stays text.
        if owner is None or owner == sender.get("id"):
            phone = number
        else:
            system["shared_contact"] = number
    return text, attachments, system, phone


def _date(value: Any) -> datetime | None:
    if not _is_int(value) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _str(value: Any) -> str:
    """A string field, made storable: lone surrogates (valid JSON, invalid UTF-8) and NUL
    (refused by PostgreSQL) become U+FFFD; anything not a string is empty."""
    if not isinstance(value, str):
        return ""
    if value.isascii():
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value.replace("\x00", "\ufffd")


def _int(value: Any) -> int:
    return value if _is_int(value) and value > 0 else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
