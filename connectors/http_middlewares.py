"""The request middlewares of the gateway's HTTP server (:mod:`connectors.http_server`).

Each runs under every route, so a connector cannot forget it: the body cap (413 before
the body is read, per route where a route declares its own), the per-route webhook rate
(429 with ``Retry-After``), and the body timeout (408 for a body trickled in). Every
refusal is logged through a :class:`RejectionLog`, with the path, never the body.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from connectors.ratelimit import RateLimiter
from connectors.rejections import RejectionLog
from storage.i18n import _

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

# Methods that carry a webhook delivery (rate-limited per route); reads are not.
WEBHOOK_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def too_large_message(limit: int) -> str:
    return _("The request body is too large: the limit is {limit} bytes.").format(limit=limit)


def route_cap(request: web.Request, caps: Mapping[Any, int] | None, limit: int) -> int:
    """The body cap of the route ``request`` matched: its own (``HttpServer.add_routes``'
    ``body_caps``, e.g. the web chat's uploads) or the server's."""
    if not caps:
        return limit
    return caps.get(request.match_info.handler, limit)


def body_limit_middleware(limit: int, rejections: RejectionLog | None = None,
                          caps: Mapping[Any, int] | None = None,
                          ) -> Middleware:
    """413 with a plain message when the declared or actual body exceeds the route's cap
    (``limit`` unless the route has its own in ``caps``); each refusal is logged
    (rate-limited) with the path, never the body."""

    def refuse(request: web.Request, size: int, cap: int) -> web.HTTPRequestEntityTooLarge:
        if rejections is not None:
            rejections.reject(f"{request.method} {request.rel_url.raw_path}: "
                              f"{too_large_message(cap)}", 413, request.remote)
        return web.HTTPRequestEntityTooLarge(max_size=cap, actual_size=size,
                                             text=too_large_message(cap))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        cap = route_cap(request, caps, limit)
        if request.content_length is not None and request.content_length > cap:
            raise refuse(request, request.content_length, cap)
        if cap != limit:
            request = request.clone(client_max_size=cap)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            # aiohttp raises it from request.read()/json() on a chunked body over the cap.
            raise refuse(request, cap + 1, cap) from None

    return middleware


def webhook_rate_middleware(limiter: RateLimiter, rejections: RejectionLog,
                            ) -> Middleware:
    """429 with ``Retry-After`` when one webhook route (one channel) is flooded; checked
    before the body is read, so a refusal costs next to nothing."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in WEBHOOK_METHODS:
            resource = request.match_info.route.resource
            if resource is not None:  # an unknown path is a 404 anyway
                wait = limiter.take(resource.canonical)
                if wait > 0:
                    seconds = max(1, math.ceil(wait))
                    reason = _("Too many requests to this route; retry in {seconds} s.").format(
                        seconds=seconds)
                    rejections.reject(f"{request.method} {request.rel_url.raw_path}: {reason}",
                                      429, request.remote)
                    raise web.HTTPTooManyRequests(text=reason,
                                                  headers={"Retry-After": str(seconds)})
        return await handler(request)

    return middleware


def body_timeout_middleware(timeout: float, rejections: RejectionLog,
                            ) -> Middleware:
    """Read the whole body within ``timeout`` seconds, else answer 408 and close.

    The body is read here (aiohttp keeps it: the handler's ``read()``/``json()`` get
    the same bytes), so a client trickling its body holds a connection for at most
    ``timeout`` seconds, whatever the handler does."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A body already received whole (a webhook's usual few hundred bytes arrive with
        # the headers) has nothing left to wait for: no timer (issue 20, bench/PROFILE.md).
        if request.body_exists and not request.content.is_eof():
            try:
                async with asyncio.timeout(timeout):
                    await request.read()
            except TimeoutError:
                reason = _("The request body did not arrive within {seconds:g} s.").format(
                    seconds=timeout)
                rejections.reject(f"{request.method} {request.rel_url.raw_path}: {reason} "
                                  f"Connection closed.", 408, request.remote)
                response = web.Response(status=408, text=reason, headers={"Connection": "close"})
                await response.prepare(request)
                await response.write_eof()
                if request.protocol is not None:
                    request.protocol.force_close()  # no lingering read of the rest
                return response
        return await handler(request)

    return middleware
