"""Which web origins may open the chat page and its websocket.

A browser names the page that opens a websocket in its ``Origin`` header; a chat
socket opened from ``http://evil.example`` must not get a visitor token. Allowed: the
server's own origin (the ``Host`` the request came to, or ``server.public_url``) and
``options.allowed_origins`` (the sites that embed the chat). Any other origin is
refused with 403. A request without ``Origin`` is not a browser's cross-site request
(a top-level navigation, a script with a plain HTTP client) and is let through: such a
client can claim any origin anyway, the header protects browsers' visitors.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalize(origin: str) -> str | None:
    """``scheme://host[:port]`` lowercased, without a default port; None when it is not
    an origin (``null``, a path, garbage)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _netloc(origin: str) -> str:
    return origin.split("://", 1)[1]


def _strip_default_port(host: str) -> str:
    for port in DEFAULT_PORTS.values():
        if host.endswith(":" + port):
            return host[: -len(port) - 1]
    return host


class OriginPolicy:
    def __init__(self, allowed: Iterable[str], public_url: str | None = None) -> None:
        self.allowed = {o for o in (normalize(a) for a in allowed) if o}
        own = normalize(public_url) if public_url else None
        if own:
            self.allowed.add(own)

    def allows(self, origin: str | None, host: str) -> bool:
        """``origin`` (the header, None when absent) for a request sent to ``host``."""
        if origin is None:
            return True
        found = normalize(origin)
        if found is None:
            return False
        if found in self.allowed:
            return True
        return _netloc(found) == _strip_default_port(host.strip().lower())
