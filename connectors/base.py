"""The connector interface every channel implements, and its error classes.

A connector speaks one messenger's real wire protocol over aiohttp. The gateway
(``connectors/gateway.py``) starts it, restarts it with capped exponential backoff
when it fails, mounts its webhook routes on the one HTTP server, and hands it queued
outbound messages through the outbox worker.

Inbound: a connector turns the platform's payload into :class:`storage.inputs.Inbound`
and awaits ``self.ingest(inbound)`` — the gateway's group-commit writer — which returns
only once the message is committed, so a webhook is answered 2xx only after commit.

Outbound: :meth:`Connector.send` delivers one :class:`storage.rows.OutboxItem`
and returns the channel's message id, or raises :class:`TransientSendError` (retry
later, honouring ``retry_after``) or :class:`PermanentSendError` (shown to the
operator with the channel's own reason, retryable by hand).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from connectors.plugin import ConnectorError, ConnectorOptions
from storage.i18n import _
from storage.inputs import Inbound
from storage.ports import ConnectorStore
from storage.rows import IngestResult, OutboxItem

IngestFn = Callable[[Inbound], Awaitable[IngestResult]]

# Health states.
STARTING = "starting"
OK = "ok"
DEGRADED = "degraded"
FAILED = "failed"
STOPPED = "stopped"


@dataclass(frozen=True)
class ChannelSpec:
    """One configured channel as the connectors see it (from the config file)."""

    id: int  # the storage Channel id
    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)  # stored on the channel
    options: dict[str, Any] = field(default_factory=dict)  # connector options, secrets included


@dataclass(frozen=True)
class Health:
    state: str
    detail: str = ""


@dataclass(frozen=True)
class SendResult:
    external_id: str | None
    extra_ids: tuple[str, ...] = ()  # further parts when a long text was split


class SendError(Exception):
    """Delivery failed; ``str(err)`` is the channel's own reason."""


class TransientSendError(SendError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    pass


def options_model(kind: str) -> type[ConnectorOptions]:
    """The options model the kind's plug-in declares; a kind with no plug-in takes none."""
    from connectors.registry import PACKAGES, plugin

    return plugin(kind).options if kind in PACKAGES else ConnectorOptions


class Connector(abc.ABC):
    """One running channel.

    ``self.options`` is the channel's options validated once, here, by the model its
    plug-in declares (the same model ``config check`` uses); a subclass narrows its type
    (``options: TelegramOptions``). Options that do not validate leave the defaults in
    ``self.options`` and the reason in ``self.config_error``: :meth:`start` of the
    subclass raises it as a :class:`ConnectorError` (:meth:`check_config`), so the
    gateway shows the channel as failed with that reason and starts the others."""

    kind: ClassVar[str]
    options: ConnectorOptions

    def __init__(self, spec: ChannelSpec, store: ConnectorStore, ingest: IngestFn) -> None:
        self.spec = spec
        self.store = store
        self.ingest = ingest
        self.health = Health(STARTING)
        self._health_listeners: list[Callable[[Health], None]] = []
        self.config_error = ""
        model = options_model(self.kind)
        try:
            self.options = model.model_validate(spec.options or {})
        except ValidationError as err:
            self.config_error = _("Channel {name!r} ({kind}) has invalid options: {error}").format(
                name=spec.name, kind=self.kind, error="; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or '?'}: {e['msg']}"
                    for e in err.errors(include_url=False)))
            self.options = model.model_construct()

    def check_config(self) -> None:
        """Raise :class:`ConnectorError` with :attr:`config_error` if the options were bad."""
        if self.config_error:
            raise ConnectorError(self.config_error)

    def on_health(self, callback: Callable[[Health], None]) -> None:
        self._health_listeners.append(callback)

    def set_health(self, state: str, detail: str = "") -> None:
        self.health = Health(state, detail)
        for callback in list(self._health_listeners):
            callback(self.health)

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Begin receiving (e.g. start long polling). Raise ConnectorError on a fatal problem.

        Must return promptly: long-running loops go in tasks the connector owns."""

    async def stop(self) -> None:
        """Stop every task started by :meth:`start`."""

    async def run(self) -> None:
        """Optional long-running body; the gateway restarts it with backoff if it raises."""

    def routes(self) -> list[web.RouteDef]:
        """Webhook routes this connector serves on the gateway's HTTP server."""
        return []

    def body_caps(self) -> dict[Any, int]:
        """Route handlers whose request bodies have their own cap (a file upload), instead
        of the server's ``max_body_bytes``."""
        return {}

    def describe_address(self, base_url: str) -> str:
        """A line for the operator naming where this channel is reached ("" for none);
        ``base_url`` is the server's public URL or its bound address."""
        return ""

    @abc.abstractmethod
    async def send(self, item: OutboxItem) -> SendResult:
        """Deliver one outbound message (see module docstring for the error contract)."""
