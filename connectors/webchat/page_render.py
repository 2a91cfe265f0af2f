"""The chat page as served: the template with its configuration (title, the page's
translated strings, the upload cap) and the headers that lock it down."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from connectors.webchat.upload import too_large
from storage.i18n import _, language


def page_config(channel: str, title: Any, max_upload_bytes: int) -> dict[str, Any]:
    return {
        "channel": channel,
        "title": str(title or _("Chat with us")),
        "strings": {
            "placeholder": _("Type a message…"), "send": _("Send"),
            "name": _("Your name"), "save": _("Save"),
            "connecting": _("Connecting…"), "online": _("Connected"),
            "offline": _("Offline — reconnecting…"), "sending": _("sending…"),
            "operator": _("Operator"), "you": _("You"), "read": _("read"),
            "empty": _("Write to us — an operator will answer here."),
            "attach": _("Attach a file"), "uploading": _("uploading…"),
            "too_large": too_large(max_upload_bytes),
            "upload_failed": _("The file could not be sent."),
        },
        "max_upload_bytes": max_upload_bytes,
    }


def render_page(template: str, channel: str, title: Any, max_upload_bytes: int,
                allowed_origins: Iterable[str]) -> web.Response:
    config = page_config(channel, title, max_upload_bytes)
    blob = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    html = template.replace("{{CONFIG}}", blob).replace("{{LANG}}", language())
    ancestors = " ".join(["'self'", *sorted(allowed_origins)])
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "script-src 'unsafe-inline'; connect-src 'self'; "
                                   f"frame-ancestors {ancestors}",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})
