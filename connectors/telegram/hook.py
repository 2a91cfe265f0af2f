"""Small pieces of Telegram's webhook side: its address, its secret, its error body.

Kept apart from the connector so the pure parts (address, secret) are importable by
tests and by the benchmarks without the connector's state.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from connectors.webhooks import route_path as shared_route_path
from connectors.webhooks import webhook_path as shared_webhook_path

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(channel_name: str) -> str:
    return shared_webhook_path("telegram", channel_name)


def route_path(channel_name: str) -> str:
    return shared_route_path("telegram", channel_name)


def derived_secret(token: str, channel_name: str) -> str:
    """A stable webhook secret when none is configured (hex: Telegram's allowed alphabet)."""
    return hmac.new(token.encode(), f"switchboard-webhook:{channel_name}".encode(),
                    hashlib.sha256).hexdigest()


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)

