"""Pure functions turning a WhatsApp Cloud API webhook body into plain events.

Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components and
``.../webhooks/payload-examples`` (the same bodies as ``david-lev/pywa``
``tests/data/updates/*.json``):

``{"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field":
"messages", "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number",
"phone_number_id"}, "contacts": [{"profile": {"name"}, "wa_id"}], "messages": [...],
"statuses": [...], "errors"?: [...]}}]}]}``

* A message: ``{"from", "id": "wamid…", "timestamp": "<unix seconds as a string>",
  "type", "<type>": {...}, "context"?: {"from", "id"}}``; media types (image, video, audio,
  document, sticker) carry ``{"id", "mime_type", "sha256", "caption"?, "filename"?}`` —
  an id to resolve through the Graph API, not a URL.
* A status: ``{"id": wamid, "status": "sent"|"delivered"|"read"|"failed", "timestamp",
  "recipient_id", "errors"?: [{"code", "title", "message"?, "error_data"?: {"details"}}]}``.

Events for another phone number of the same business account are skipped: a message
must reach the channel (and the client) it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.meta.messaging import ParseError
from storage.i18n import _

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
DEFAULT_NAMES = {"image": "image.jpg", "video": "video.mp4", "audio": "audio.ogg",
                 "document": "document", "sticker": "sticker.webp"}


@dataclass(frozen=True)
class Media:
    media_id: str
    kind: str
    mime: str
    name: str


@dataclass(frozen=True)
class WaMessage:
    wamid: str
    wa_id: str
    name: str
    sent_at: datetime | None
    text: str
    media: Media | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WaStatus:
    wamid: str
    status: str
    recipient: str
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class WaError:
    reason: str


WaEvent = WaMessage | WaStatus | WaError


def seconds(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def error_reason(error: Any) -> tuple[int | None, str]:
    """``(code, "title (code): details")`` of one ``errors[]`` item."""
    if not isinstance(error, dict):
        return None, _("unknown error")
    code = error.get("code") if isinstance(error.get("code"), int) else None
    title = str(error.get("title") or error.get("message") or _("unknown error"))
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else ""
    reason = f"{title} ({code})" if code is not None else title
    return code, f"{reason}: {details}" if details else reason


def parse_body(body: Any, phone_number_id: str) -> tuple[list[WaEvent], int]:
    """The events for our number, and how many changes were for another number."""
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise ParseError(_("The body is not a webhook envelope (no entry list)."))
    if body.get("object") != "whatsapp_business_account":
        raise ParseError(_("The webhook is for {got!r}, not {expected!r}.").format(
            got=body.get("object"), expected="whatsapp_business_account"))
    events: list[WaEvent] = []
    foreign = 0
    for entry in body["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            if str(metadata.get("phone_number_id") or "") != phone_number_id:
                foreign += 1
                continue
            events += _value_events(value)
    return events, foreign


def _value_events(value: dict[str, Any]) -> list[WaEvent]:
    names: dict[str, str] = {}
    for contact in value.get("contacts") or []:
        if isinstance(contact, dict) and contact.get("wa_id"):
            profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
            names[str(contact["wa_id"])] = str(profile.get("name") or "")
    events: list[WaEvent] = []
    for message in value.get("messages") or []:
        parsed = _message(message, names)
        if parsed is not None:
            events.append(parsed)
    for status in value.get("statuses") or []:
        if isinstance(status, dict) and status.get("id") and status.get("status"):
            errors = status.get("errors") if isinstance(status.get("errors"), list) else []
            code, reason = error_reason(errors[0]) if errors else (None, "")
            events.append(WaStatus(str(status["id"]), str(status["status"]),
                                   str(status.get("recipient_id") or ""), code, reason))
    for error in value.get("errors") or []:
        events.append(WaError(error_reason(error)[1]))
    return events


def _message(message: Any, names: dict[str, str]) -> WaMessage | None:
    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
        return None
    wa_id, kind = str(message["from"]), str(message.get("type") or "unknown")
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    media: Media | None = None
    data: dict[str, Any] = {}
    context = message.get("context")
    if isinstance(context, dict) and context.get("id"):
        data["reply_to"] = str(context["id"])
    if kind == "text":
        text = str(body.get("body") or "")
    elif kind in MEDIA_TYPES:
        text = str(body.get("caption") or "")
        name = str(body.get("filename") or DEFAULT_NAMES[kind])
        if body.get("id"):
            media = Media(str(body["id"]), kind, str(body.get("mime_type") or ""), name)
    elif kind == "location":
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        text = _("Location: {place} ({lat}, {lon})").format(
            place=place or "-", lat=body.get("latitude"), lon=body.get("longitude"))
    elif kind == "contacts":
        text = "\n".join(_contact(c) for c in message.get("contacts") or [] if isinstance(c, dict))
    elif kind == "interactive":
        reply = body.get(str(body.get("type"))) if isinstance(body, dict) else None
        text = str(reply.get("title") or "") if isinstance(reply, dict) else ""
        data["reply_id"] = reply.get("id") if isinstance(reply, dict) else None
    elif kind == "button":
        text = str(body.get("text") or body.get("payload") or "")
    elif kind == "reaction":
        emoji = str(body.get("emoji") or "")
        text = (_("Reacted {emoji} to a message").format(emoji=emoji) if emoji
                else _("Removed a reaction"))
        data["reaction_to"] = body.get("message_id")
    else:
        text = ""
    if not text and media is None:
        text = _("[A {kind} message Switchboard cannot show]").format(kind=kind)
    return WaMessage(str(message["id"]), wa_id, names.get(wa_id, ""),
                     seconds(message.get("timestamp")), text, media,
                     {k: v for k, v in data.items() if v})


def _contact(card: dict[str, Any]) -> str:
    name = card.get("name") if isinstance(card.get("name"), dict) else {}
    phones = [str(p.get("phone")) for p in card.get("phones") or []
              if isinstance(p, dict) and p.get("phone")]
    return _("Contact: {name} {phones}").format(
        name=name.get("formatted_name") or "-", phones=", ".join(phones)).strip()
