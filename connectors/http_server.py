"""The one HTTP server every webhook and the web chat share.

Why one server: a team opens one port in its firewall and points every messenger's
webhook at it. Each connector contributes its routes; the server adds what they all
need — a body size cap answered with a clear 413 *before* the body is read, and a
``/health`` route that says how each channel is doing (for a load balancer or a
person with curl).

The listening socket is bound synchronously by :meth:`HttpServer.bind` so the
address can be printed before the event loop starts; when the configured port is
taken it falls back to a free one and says so in :attr:`HttpServer.notice`.

Hostile and careless clients (:class:`ServerLimits`, the ``server:`` settings): a
client that sends its headers one byte a second is cut off after ``header_timeout``,
one that trickles its body after ``body_timeout`` (408); one address holds at most
``max_connections_per_ip`` connections at once; each webhook route (one per channel)
takes ``webhook_requests_per_second`` with a ``webhook_burst`` and answers the excess
``429`` with ``Retry-After``. Every cut and refusal is logged, at most a few lines
per burst (:class:`RejectionLog`). The guards live under every route (the request
middlewares in :mod:`connectors.http_middlewares`, the connection guard here), so a
connector cannot forget them.

Routes whose path holds percent-escapes (a channel named ``поддержка`` or ``support
team`` printed as ``/chat/%D0%BF…``) are registered on the path aiohttp matches
against (decoded, except ``%2F`` and ``%25``), so the printed address answers.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import PlainResource
from yarl import URL

from connectors.http_middlewares import (
    Handler,
    body_limit_middleware,
    body_timeout_middleware,
    webhook_rate_middleware,
)
from connectors.ratelimit import RateLimiter
from connectors.rejections import RejectionLog
from storage.errors import SwitchboardError
from storage.i18n import _

HealthFn = Callable[[], dict[str, tuple[str, str]]]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ServerLimits:
    """The server's guards against slow and flooding clients (``server:`` settings)."""

    header_timeout: float = 10.0  # seconds from connect to the end of the request headers
    body_timeout: float = 30.0  # seconds from the headers to the end of the body
    max_connections_per_ip: int = 64  # open connections one address may hold
    visitor_messages_per_second: float = 1.0  # web chat: one visitor's steady pace
    visitor_burst: int = 10  # web chat: messages a visitor may send at once
    new_chats_per_minute: int = 10  # web chat: new visitors one address may start
    webhook_requests_per_second: float = 100.0  # per webhook route (one per channel)
    webhook_burst: int = 500


class PlainRoute(web.AbstractRouteDef):
    """A route on an exact path given percent-encoded (as printed for people), matched
    the way aiohttp resolves requests: decoded, except ``%2F`` and ``%25``. No part of
    the path is taken as a ``{variable}``, whatever a channel is named."""

    def __init__(self, method: str, path: str, handler: Handler, allow_head: bool = False) -> None:
        self.method, self.path, self.handler = method, path, handler
        self.allow_head = allow_head and method == "GET"

    def register(self, router: web.UrlDispatcher) -> list[web.AbstractRoute]:
        resource = PlainResource(URL(self.path, encoded=True).path_safe)
        router.register_resource(resource)
        routes = [resource.add_route(self.method, self.handler)]
        if self.allow_head:
            routes.append(resource.add_route("HEAD", self.handler))
        return routes


def plain(route: web.AbstractRouteDef) -> web.AbstractRouteDef:
    """``route`` itself, or a :class:`PlainRoute` when its path holds percent-escapes."""
    if (isinstance(route, web.RouteDef) and "%" in route.path
            and set(route.kwargs) <= {"allow_head", "name"} and not route.kwargs.get("name")):
        return PlainRoute(route.method, route.path, route.handler,  # type: ignore[arg-type]
                          bool(route.kwargs.get("allow_head")))
    return route


class HttpServer:
    """An aiohttp application on one socket; routes are added before :meth:`start`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8780,
                 max_body_bytes: int = 1_048_576, health: HealthFn | None = None,
                 limits: ServerLimits | None = None) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.limits = limits or ServerLimits()
        self.health = health or (lambda: {})
        self.notice = ""  # a fallback the operator should hear about
        self.rejections = RejectionLog(log, "http server")
        self.webhook_limiter = RateLimiter(self.limits.webhook_requests_per_second,
                                           self.limits.webhook_burst)
        self.body_caps: dict[Any, int] = {}  # route handler -> its own body cap
        self.app = web.Application(client_max_size=max_body_bytes, middlewares=[
            body_limit_middleware(max_body_bytes, self.rejections, self.body_caps),
            webhook_rate_middleware(self.webhook_limiter, self.rejections),
            body_timeout_middleware(self.limits.body_timeout, self.rejections)])
        self.app.router.add_get("/health", self._health)
        self._sock: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self.connections: dict[str, int] = {}  # open connections per address

    def add_routes(self, routes: Iterable[web.AbstractRouteDef],
                   body_caps: Mapping[Any, int] | None = None) -> None:
        """Add ``routes``; ``body_caps`` maps a route handler to its own body cap (larger
        or smaller than ``max_body_bytes``), e.g. a file upload."""
        self.app.router.add_routes([plain(route) for route in routes])
        self.body_caps.update(body_caps or {})

    def bind(self) -> int:
        """Bind the socket (configured port, else a free one); returns the port.

        Raises :class:`SwitchboardError` (a user-facing message) when the address
        itself is unusable."""
        if self._sock is not None:
            return self.bound_port
        try:
            self._sock = _listen(self.host, self.port)
        except OSError as err:
            if self.port == 0 or err.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise SwitchboardError(_("Cannot listen on {host}:{port}: {reason} (check "
                                         "server.host and server.port).").format(
                    host=self.host, port=self.port, reason=err.strerror or err)) from err
            self._sock = _listen(self.host, 0)
            self.notice = _("Port {port} is already in use; listening on {new} instead "
                            "(set server.port in the configuration file).").format(
                port=self.port, new=self._sock.getsockname()[1])
        return self.bound_port

    @property
    def bound_port(self) -> int:
        return self._sock.getsockname()[1] if self._sock is not None else self.port

    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.bound_port}"

    async def start(self) -> None:
        self.bind()
        assert self._sock is not None
        # keepalive_timeout: an idle keep-alive connection (or one trickling the headers
        # of its next request) is closed after header_timeout too.
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0,
                                     keepalive_timeout=self.limits.header_timeout)
        await self._runner.setup()
        await _GuardedSite(self._runner, self._sock, self).start()

    async def stop(self) -> None:
        self.rejections.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    async def _health(self, request: web.Request) -> web.Response:
        states = self.health()
        body = {name: {"state": state, "detail": detail} for name, (state, detail) in states.items()}
        healthy = all(state == "ok" for state, _d in states.values())
        return web.Response(text=json.dumps({"ok": healthy, "channels": body}, ensure_ascii=False),
                            content_type="application/json", status=200 if healthy else 503)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _GuardedSite(web.SockSite):
    """A SockSite whose connections pass through :class:`_Guard`."""

    __slots__ = ("_owner",)

    def __init__(self, runner: web.AppRunner, sock: socket.socket, owner: HttpServer) -> None:
        super().__init__(runner, sock, shutdown_timeout=1.0, backlog=512)
        self._owner = owner

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        owner = self._owner
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Guard(server(), owner), sock=self._sock, backlog=self._backlog)


class _Guard(asyncio.Protocol):
    """One connection: the per-address cap and the header deadline, in front of
    aiohttp's own protocol (every call is passed on to it unchanged).

    The deadline runs from the connection's start to the first end of headers
    (``CRLF CRLF``); later requests on a kept-alive connection are bounded by the
    runner's ``keepalive_timeout`` (set to the same value)."""

    def __init__(self, inner: Any, owner: HttpServer) -> None:
        self.inner = inner
        self.owner = owner
        self.peer = ""
        self.counted = False
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peername = transport.get_extra_info("peername")
        self.peer = str(peername[0]) if isinstance(peername, tuple) and peername else "?"
        owner, limits = self.owner, self.owner.limits
        held = owner.connections.get(self.peer, 0)
        if held >= limits.max_connections_per_ip:
            owner.rejections.reject(
                f"more than {limits.max_connections_per_ip} connections at once from one "
                f"address (server.max_connections_per_ip); connection closed", None, self.peer)
            transport.abort()
            return
        owner.connections[self.peer] = held + 1
        self.counted = True
        self.timer = asyncio.get_running_loop().call_later(limits.header_timeout,
                                                           self._too_slow)
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        self.timer = None
        self.owner.rejections.reject(
            f"no complete request headers within {self.owner.limits.header_timeout:g} s "
            f"(server.header_timeout); connection closed", 408, self.peer)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.timer is not None:
            seen = self.tail + data
            if b"\r\n\r\n" in seen:
                self.timer.cancel()
                self.timer = None
                self.tail = b""
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if not self.counted:
            return None
        result: bool | None = self.inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.counted:
            return
        self.counted = False
        left = self.owner.connections.get(self.peer, 1) - 1
        if left > 0:
            self.owner.connections[self.peer] = left
        else:
            self.owner.connections.pop(self.peer, None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.counted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.counted:
            self.inner.resume_writing()
