"""One webhook pipeline: verify → read under a cap → verify the bytes → strict JSON →
parse → store → answer, only after commit.

Every channel that receives webhooks (Telegram, Viber, VK's Callback API, the Meta
family, the generic API) runs this one sequence; a channel declares only its steps, a
:class:`WebhookSteps` subclass, and mounts ``webhook_route(path, steps)``:

1. :meth:`~WebhookSteps.check_headers` before the body is read (a missing signature
   header, a wrong secret token);
2. the body, read under :attr:`~WebhookSteps.max_body` bytes
   (:func:`connectors.webhooks.read_capped`; ``None``: the server's
   ``client_max_size``) — larger → 413 with :meth:`~WebhookSteps.too_large`;
3. :meth:`~WebhookSteps.check_body`: a signature over the raw bytes, before anything
   is parsed;
4. strict JSON: ``body.decode("utf-8-sig")`` (an encoded surrogate or a bad byte is
   refused, which ``json.loads(bytes)`` would let through) → 400 with
   :meth:`~WebhookSteps.not_json`;
5. :meth:`~WebhookSteps.parse`: the channel's parsed item, or an early answer (VK's
   ``confirmation``, a repeat already stored);
6. :meth:`~WebhookSteps.store` returns the channel's "ok" answer only after commit.
   A failure is split here, once: a :class:`Refused` raised by the step is a refusal;
   an error about the message itself (:func:`connectors.rejections.is_permanent`) gets
   :meth:`~WebhookSteps.unstorable` (answered so the platform stops); anything else is
   the store being unavailable: logged with its traceback and answered
   :meth:`~WebhookSteps.retry_later` (so the platform delivers it again).

Every step refuses by raising :class:`Refused`; the refusal is logged through the
channel's :class:`~connectors.rejections.RejectionLog` (rate-limited; never the body or
a secret) and answered in the platform's shape (:meth:`~WebhookSteps.refusal`, or the
refusal's own ``answer``). The per-request path adds no thread hop and parses nothing
twice: a few method calls around what each connector did by hand.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from aiohttp import web

from connectors.rejections import RejectionLog, is_permanent
from connectors.webhooks import read_capped
from storage.i18n import _

P = TypeVar("P")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A step refuses the request: ``status`` and ``reason`` are logged; the answer is
    ``answer`` when given (VK acknowledges a malformed event with ``ok``), else the
    channel's :meth:`WebhookSteps.refusal` of them."""

    def __init__(self, status: int, reason: str,
                 answer: web.StreamResponse | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.answer = answer


def missing_header(header: str) -> Refused:
    """401: the request lacks the header that proves it comes from the platform."""
    return Refused(401, _("Missing {header} header.").format(header=header))


def wrong_header(header: str) -> Refused:
    """403: the secret or signature header does not match."""
    return Refused(403, _("Wrong {header} header.").format(header=header))


class WebhookSteps(abc.ABC, Generic[P]):
    """What one channel's webhook declares; :func:`serve` runs the steps in order.

    ``rejections`` logs refusals (and, through its logger, a store failure)."""

    rejections: RejectionLog
    max_body: int | None = None  # the largest body taken, in bytes; None: the server's cap

    def check_headers(self, request: web.Request) -> None:
        """Raise :class:`Refused` before the body is read (default: nothing to check)."""

    def check_body(self, request: web.Request, body: bytes) -> None:
        """Raise :class:`Refused` for raw bytes that fail the signature (default: none)."""

    @abc.abstractmethod
    def too_large(self, cap: int) -> Refused:
        """The refusal of a body over ``cap`` bytes (status 413)."""

    @abc.abstractmethod
    def not_json(self, err: ValueError) -> Refused:
        """The refusal of a body that is not UTF-8 JSON (``UnicodeDecodeError`` included)."""

    @abc.abstractmethod
    def parse(self, data: Any) -> P | web.StreamResponse:
        """The parsed item, or an answer given at once (nothing to store); raise
        :class:`Refused` for a body the channel cannot take."""

    @abc.abstractmethod
    async def store(self, parsed: P) -> web.StreamResponse:
        """Commit ``parsed``; return the platform's "ok" answer (only after commit)."""

    @abc.abstractmethod
    def unstorable(self, parsed: P, err: Exception) -> Refused:
        """The answer when ``parsed`` can never be stored (so the platform stops)."""

    @abc.abstractmethod
    def retry_later(self, parsed: P) -> web.StreamResponse:
        """The answer when the store is briefly unavailable (so the platform retries)."""

    @abc.abstractmethod
    def refusal(self, status: int, reason: str) -> web.StreamResponse:
        """A refusal in the platform's shape."""


async def serve(steps: WebhookSteps[P], request: web.Request) -> web.StreamResponse:
    """Run one request through the steps (see the module docstring)."""
    try:
        steps.check_headers(request)
        cap = steps.max_body
        if cap is None:
            body = await request.read()  # capped by the server's client_max_size
        else:
            read = await read_capped(request, cap)
            if read is None:
                raise steps.too_large(cap)
            body = read
        steps.check_body(request, body)
        try:
            data = json.loads(body.decode("utf-8-sig"))  # strict: no encoded surrogates
        except ValueError as err:  # UnicodeDecodeError included
            raise steps.not_json(err) from None
        parsed = steps.parse(data)
        if isinstance(parsed, web.StreamResponse):
            return parsed
        try:
            return await steps.store(parsed)
        except Refused:
            raise
        except Exception as err:
            if is_permanent(err):
                raise steps.unstorable(parsed, err) from None
            log = steps.rejections
            log.logger.exception("%s: storing failed; asked to deliver it again", log.route)
            return steps.retry_later(parsed)
    except Refused as refused:
        steps.rejections.reject(refused.reason, refused.status, request.remote)
        if refused.answer is not None:
            return refused.answer
        return steps.refusal(refused.status, refused.reason)


def webhook_handler(steps: WebhookSteps[Any]) -> Handler:
    """The aiohttp handler running ``steps``."""
    async def handle(request: web.Request) -> web.StreamResponse:
        return await serve(steps, request)
    return handle


def webhook_route(path: str, steps: WebhookSteps[Any]) -> web.RouteDef:
    """``POST path`` served by the pipeline."""
    return web.post(path, webhook_handler(steps))


__all__ = ["Refused", "WebhookSteps", "missing_header", "serve", "webhook_handler",
           "webhook_route", "wrong_header"]
