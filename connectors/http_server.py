"""The one HTTP server every webhook and the web chat share.

Why one server: a team opens one port in its firewall and points every messenger's
webhook at it. Each connector contributes its routes; the server adds what they all
need — a body size cap answered with a clear 413 *before* the body is read, and a
``/health`` route that says how each channel is doing (for a load balancer or a
person with curl).

The listening socket is bound synchronously by :meth:`HttpServer.bind` so the
address can be printed before the event loop starts; when the configured port is
taken it falls back to a free one and says so in :attr:`HttpServer.notice`.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from connectors.rejections import RejectionLog
from storage.errors import SwitchboardError
from storage.i18n import _

HealthFn = Callable[[], dict[str, tuple[str, str]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger(__name__)


def too_large_message(limit: int) -> str:
    return _("The request body is too large: the limit is {limit} bytes.").format(limit=limit)


def body_limit_middleware(limit: int, rejections: RejectionLog | None = None,
                          ) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """413 with a plain message when the declared or actual body exceeds ``limit``;
    each refusal is logged (rate-limited) with the path, never the body."""

    def refuse(request: web.Request, size: int) -> web.HTTPRequestEntityTooLarge:
        if rejections is not None:
            rejections.reject(f"{request.method} {request.rel_url.raw_path}: "
                              f"{too_large_message(limit)}", 413, request.remote)
        return web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size,
                                             text=too_large_message(limit))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > limit:
            raise refuse(request, request.content_length)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            # aiohttp raises it from request.read()/json() on a chunked body over the cap.
            raise refuse(request, limit + 1) from None

    return middleware


class HttpServer:
    """An aiohttp application on one socket; routes are added before :meth:`start`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8780,
                 max_body_bytes: int = 1_048_576, health: HealthFn | None = None) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.health = health or (lambda: {})
        self.notice = ""  # a fallback the operator should hear about
        self.rejections = RejectionLog(log, "http server")
        self.app = web.Application(client_max_size=max_body_bytes, middlewares=[
            body_limit_middleware(max_body_bytes, self.rejections)])
        self.app.router.add_get("/health", self._health)
        self._sock: socket.socket | None = None
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        self.app.router.add_routes(list(routes))

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
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

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
