"""Outbound WhatsApp: message bodies, templates, media uploads, the window error.

``POST /{version}/{phone_number_id}/messages`` with ``{"messaging_product": "whatsapp",
"recipient_type": "individual", "to": wa_id, "type": …}`` answers ``{"messaging_product",
"contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid…", "message_status"?}]}``
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).

* ``type: text`` — ``{"body"}``, at most 4,096 characters: longer replies are split.
* ``type: template`` — ``{"name", "language": {"code"}, "components"?}``: the only kind
  allowed outside the 24-hour customer-service window, and to write first.
* Files: ``POST /{phone_number_id}/media`` (multipart ``file``, ``type``,
  ``messaging_product``) → ``{"id"}``, then ``type: image|video|audio|document`` with
  ``{"id"}`` (``filename`` for documents); a URL is sent as ``{"link"}``.
* 131047 (more than 24 hours since the customer last wrote) comes synchronously as a 400
  or later as a ``failed`` status; both become :func:`window_reason`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from connectors.base import PermanentSendError, SendError
from connectors.meta.graph import GraphApi, GraphError, to_send_error
from storage.i18n import _

TEXT_LIMIT = 4096
WINDOW_CLOSED = 131047
MEDIA_KINDS = {"image": ("image/jpeg", "image/png"),
               "video": ("video/mp4", "video/3gpp"),
               "audio": ("audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg")}


def window_reason(detail: str) -> str:
    return _("The 24-hour WhatsApp window is closed: only a template message can be sent "
             "until the client writes again. ({detail})").format(detail=detail)


def send_error(err: Exception) -> SendError:
    if isinstance(err, GraphError) and err.code == WINDOW_CLOSED:
        return PermanentSendError(window_reason(err.reason))
    return to_send_error(err)


def envelope(to: str, kind: str, payload: dict[str, Any],
             reply_to: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": to, "type": kind, kind: payload}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body


def template_payload(template: Any, default_language: str) -> dict[str, Any]:
    """``meta["template"]``: a name, or ``{"name", "language"?, "components"?}``."""
    if isinstance(template, str):
        name, _sep, language = template.partition(":")
        return {"name": name, "language": {"code": language or default_language}}
    if isinstance(template, dict) and template.get("name"):
        language = template.get("language") or default_language
        payload: dict[str, Any] = {
            "name": str(template["name"]),
            "language": language if isinstance(language, dict) else {"code": str(language)}}
        if template.get("components"):
            payload["components"] = template["components"]
        return payload
    raise PermanentSendError(_("The template to send is not understood: {value!r}").format(
        value=template))


def message_id(answer: dict[str, Any]) -> str:
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        wamid = messages[0].get("id")
        if isinstance(wamid, str) and wamid:
            return wamid
    raise GraphError(200, 0, _("WhatsApp answered without a message id."))


def media_kind(mime: str) -> str:
    for kind, mimes in MEDIA_KINDS.items():
        if mime.lower() in mimes:
            return kind
    return "document"


async def media_payload(api: GraphApi, phone_number_id: str, name: str, mime: str,
                        location: str) -> tuple[str, dict[str, Any]]:
    """``(type, payload)`` for one attachment: uploaded when local, linked when a URL."""
    kind = media_kind(mime)
    payload: dict[str, Any] = {"filename": name} if kind == "document" else {}
    if location.startswith(("http://", "https://")):
        return kind, {**payload, "link": location}
    path = Path(location.removeprefix("file://")).expanduser()
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as err:
        raise PermanentSendError(_("The attachment {name} cannot be read: {error}").format(
            name=name, error=err.strerror or err)) from err
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", mime or "application/octet-stream")
    form.add_field("file", data, filename=name or path.name,
                   content_type=mime or "application/octet-stream")
    answer = await api.post(f"{phone_number_id}/media", form=form)
    media_id = answer.get("id")
    if not isinstance(media_id, str) or not media_id:
        raise GraphError(200, 0, _("WhatsApp answered the upload without a media id."))
    return kind, {**payload, "id": media_id}
