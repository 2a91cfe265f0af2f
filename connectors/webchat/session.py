"""One open chat socket, and what a visitor's hello says about where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

MAX_FIELD = 2_000
MAX_NAME = 200


def system_data(hello: dict[str, Any]) -> dict[str, str]:
    """Where the visitor came from: page address, referrer, UTM parameters, language."""
    data: dict[str, str] = {}
    page = field_text(hello.get("page"))
    if page:
        data["page"] = page
        for key, value in parse_qsl(urlsplit(page).query, keep_blank_values=False):
            if key.startswith("utm_") and len(data) < 20:
                data[key[:40]] = value[:MAX_FIELD]
    for key in ("referrer", "language"):
        value = field_text(hello.get(key))
        if value:
            data[key] = value
    return data


def field_text(value: Any, limit: int = MAX_FIELD) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


@dataclass(eq=False)  # hashed by identity: one per open socket
class Session:
    ws: web.WebSocketResponse
    token: str
    chat_id: str
    name: str = ""
    system_data: dict[str, str] = field(default_factory=dict)
    live: bool = False  # the history frame is out: pushes go straight to the socket
    backlog: list[dict[str, Any]] = field(default_factory=list)  # pushes before that
