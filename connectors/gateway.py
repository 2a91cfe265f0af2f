"""The gateway: every configured connector, the HTTP server, the writer and the outbox.

It is the one object the console and ``switchboard serve`` hold. Each connector runs
under a supervisor task: ``start()`` then ``run()``; if either raises, the connector
is stopped, reported ``degraded`` (or ``failed`` for a :class:`ConnectorError` such as
a revoked token) with the reason, and started again after a capped exponential
backoff with jitter — a flaky network must not turn into a tight reconnect loop, and
many connectors failing together must not retry in lockstep.

With several gateways on one database (team mode: more than one ``serve``), a
connector that polls (:func:`connectors.leased.needs_lease`) runs only while this
process holds its channel's lease, and the outbox worker only while it holds the
``outbox`` lease; the others stand by and take over when the holder stops or dies.

Health changes go to subscribers as ``callback(name, state, detail)``; callbacks are
called on the gateway's event loop thread and must be thread-safe on their side
(the console posts a Textual message).

The gateway calls nothing on the store itself: it hands it to its connectors, writer,
outbox worker and leases, and takes it as :class:`storage.ports.GatewayStore`, the
union of what those need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import aiohttp

from connectors.automation import AutomationWorker
from connectors.backoff import Backoff
from connectors.base import (
    DEGRADED,
    FAILED,
    OK,
    STARTING,
    STOPPED,
    ChannelSpec,
    Connector,
    ConnectorError,
    Health,
)
from connectors.http_server import HttpServer, ServerLimits
from connectors.leased import first_of, needs_lease
from connectors.outbox import OutboxWorker, wait_event
from connectors.registry import connector_class
from connectors.writer import GroupCommitWriter
from storage.i18n import _
from storage.inputs import Inbound
from storage.leases import DEFAULT_TTL, Lease, LeaseGate, channel_lease_name
from storage.listeners import Listeners
from storage.ports import GatewayStore
from storage.rows import IngestResult

log = logging.getLogger(__name__)

HealthCallback = Callable[[str, str, str], None]
# A connector that stayed up this long has its backoff reset.
HEALTHY_RESET_SECONDS = 30.0
OUTBOX_LEASE = "outbox"  # the one process that sends (see _run_outbox)
# A poller whose lease is not ours this long after start reports standby.
STANDBY_AFTER = 2.0


class Assigner(Protocol):
    """The team auto-assigner (``storage.auto_assign.AutoAssigner``) as the gateway
    drives it: started with the gateway, stopped (blocking, in a thread) after it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class IngestWriter(Protocol):
    """The group-commit writer, in this process's thread or a helper process."""

    @property
    def batches(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ingest(self, inbound: Inbound) -> IngestResult: ...


class Gateway:
    def __init__(self, store: GatewayStore, specs: Sequence[ChannelSpec], *, host: str = "127.0.0.1",
                 port: int = 8780, max_body_bytes: int = 1_048_576,
                 public_url: str | None = None, backoff: Backoff | None = None,
                 outbox_backoff: Backoff | None = None,
                 limits: ServerLimits | None = None, lease_ttl: float = DEFAULT_TTL,
                 writer: IngestWriter | None = None) -> None:
        self.store = store
        self.lease_ttl = lease_ttl  # a poller's channel lease (connectors.leased)
        self.limits = limits or ServerLimits()
        self.specs = list(specs)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.backoff = backoff or Backoff()
        # inbound messages reach the store through it (connectors.ingest_process.writer_for)
        self.writer: IngestWriter = writer or GroupCommitWriter(store)
        self.server = HttpServer(host, port, max_body_bytes, health=self.health,
                                 limits=self.limits)
        self.connectors: dict[str, Connector] = {}
        self._health: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._health_listeners = Listeners("health")
        self._supervisors: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._stopping: asyncio.Event | None = None
        self.restarts: dict[str, int] = {}
        for spec in self.specs:
            self._build(spec)
        self.outbox = OutboxWorker(store, self.connectors_by_channel(), backoff=outbox_backoff)
        self.automation: AutomationWorker | None = None  # rules runner, set by the wiring
        self.assigner: Assigner | None = None  # team auto-assignment, set by the wiring

    def _build(self, spec: ChannelSpec) -> None:
        try:
            cls = connector_class(spec.kind)
            connector: Connector = cls(spec, self.store, self.writer.ingest)
            serve_with = getattr(connector, "serve_with", None)
            if serve_with is not None:  # connectors facing visitors take the server's limits
                serve_with(self.limits, self.public_url)
            self.server.add_routes(connector.routes(), connector.body_caps())
        except Exception as err:  # a broken channel must not keep the others from running
            if not isinstance(err, ConnectorError):
                log.exception("channel %s could not be set up", spec.name)
            self._set_health(spec.name, FAILED, _describe(err) if not isinstance(
                err, ConnectorError) else str(err))
            return
        self.connectors[spec.name] = connector
        self._set_health(spec.name, STARTING, "")
        connector.on_health(lambda health, name=spec.name: self._on_connector_health(name, health))

    def connectors_by_channel(self) -> dict[int, Connector]:
        return {c.spec.id: c for c in self.connectors.values()}

    # ---- public API -------------------------------------------------------------------
    def bind(self) -> int:
        """Bind the HTTP port now (so addresses can be printed before start)."""
        return self.server.bind()

    def external_url(self) -> str:
        """Where clients and messengers reach the server (``public_url`` or the bound socket)."""
        return self.public_url or self.server.base_url()

    def addresses(self) -> list[str]:
        """Human-readable addresses: one per connector that serves something, plus notices."""
        self.bind()
        lines = [self.server.notice] if self.server.notice else []
        base = self.external_url()
        for connector in self.connectors.values():
            text = connector.describe_address(base)
            if text:
                lines.append(text)
        if self.public_url or not lines or all(line == self.server.notice for line in lines):
            lines.append(_("Listening on {url}").format(url=self.server.base_url()))
        return lines

    def health(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            return dict(self._health)

    def subscribe_health(self, callback: HealthCallback) -> Callable[[], None]:
        """``callback(name, state, detail)`` on every change (from any thread)."""
        return self._health_listeners.add(callback)

    async def start(self) -> None:
        """Start the writer, the HTTP server, every connector and the outbox worker."""
        if self._stopping is not None:
            return
        self._stopping = asyncio.Event()
        try:
            if self.automation is not None:  # first: it must see the first message stored
                await self.automation.start()
            await self.writer.start()
            if self.assigner is not None:
                self.assigner.start()
            await self.server.start()
            self._session = aiohttp.ClientSession()
            for name, connector in self.connectors.items():
                self._supervisors.append(asyncio.create_task(
                    self._supervise(name, connector), name=f"connector-{name}"))
            self._supervisors.append(asyncio.create_task(self._run_outbox(), name="outbox-lease"))
        except BaseException:
            await self.stop()  # leave nothing half-running
            raise

    async def stop(self) -> None:
        """Stop taking work, finish what is in hand, close everything."""
        if self._stopping is None:
            return
        self._stopping.set()
        for task in self._supervisors:
            task.cancel()
        for task in self._supervisors:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._supervisors.clear()
        await self.server.stop()
        await self.writer.stop()
        if self.assigner is not None:
            await asyncio.to_thread(self.assigner.stop)
        if self.automation is not None:  # last: it sees every message stored before
            await self.automation.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._stopping = None

    # ---- supervision ------------------------------------------------------------------
    async def _supervise(self, name: str, connector: Connector) -> None:
        """Run ``connector`` until the gateway stops; a poller only while this process
        holds its channel's lease (:mod:`connectors.leased`)."""
        assert self._stopping is not None
        gate = (LeaseGate(Lease(self.store, channel_lease_name(connector.spec.id),
                                ttl=self.lease_ttl))
                if needs_lease(connector, connector.spec) else None)
        try:
            if gate is None:
                await self._run_with_restarts(name, connector)
                return
            gate.start()
            with contextlib.suppress(TimeoutError):  # the first try takes milliseconds
                async with asyncio.timeout(STANDBY_AFTER):
                    await first_of(gate.held.wait(), self._stopping)
            while not self._stopping.is_set():
                if not gate.held.is_set():
                    connector.set_health(OK, _("standby: another serve process polls this "
                                               "channel"))
                    await first_of(gate.held.wait(), self._stopping)
                    continue
                if await first_of(self._run_with_restarts(name, connector), gate.lost):
                    return
                log.warning("channel %s: lease lost, polling stops here", name)
                await _quietly_stop(connector)
        finally:
            await _quietly_stop(connector)
            connector.set_health(STOPPED)
            if gate is not None:
                await asyncio.shield(gate.stop())  # hand the channel over at once

    async def _run_with_restarts(self, name: str, connector: Connector) -> None:
        """``start()`` then ``run()``, restarted with backoff, until the gateway stops."""
        assert self._session is not None and self._stopping is not None
        attempt = 0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            try:
                connector.set_health(STARTING)
                await connector.start(self._session)
                if connector.health.state == STARTING:
                    connector.set_health(OK)
                await connector.run()
                # run() returned: the connector works through tasks it owns.
                await self._stopping.wait()
                return
            except asyncio.CancelledError:
                raise
            except ConnectorError as err:
                state, detail = FAILED, str(err)
            except Exception as err:  # any failure of a connector is survivable
                log.warning("connector %s failed", name, exc_info=True)
                state, detail = DEGRADED, _describe(err)
            await _quietly_stop(connector)
            if loop.time() - started >= HEALTHY_RESET_SECONDS:
                attempt = 0
            delay = self.backoff.delay(attempt)
            if state == FAILED:
                delay = max(delay, self.backoff.cap / 2)
            attempt += 1
            self.restarts[name] = self.restarts.get(name, 0) + 1
            connector.set_health(state, _("{reason} (retrying in {seconds:.0f} s)").format(
                reason=detail, seconds=delay) if delay >= 1 else detail)
            await wait_event(self._stopping, delay)

    async def _run_outbox(self) -> None:
        """Run the outbox worker while this process holds the outbox lease.

        One process sends at a time: the worker re-queues at start what was left in
        ``sending``, which is only right when no other live process is sending it.
        When the holder dies, another ``serve`` takes the lease over and re-queues what
        the dead one had in flight (flagged ``possible_double`` where the channel has no
        idempotent send); ``claim_outbox`` serializes claims as a second guard.
        """
        assert self._stopping is not None
        gate = LeaseGate(Lease(self.store, OUTBOX_LEASE, ttl=self.lease_ttl))
        gate.start()
        try:
            while not self._stopping.is_set():
                if not await first_of(gate.held.wait(), self._stopping):
                    return
                await self.outbox.start()
                await first_of(gate.lost.wait(), self._stopping)
                if not self._stopping.is_set():
                    log.warning("outbox lease lost: another process sends now")
                await self.outbox.stop()
        finally:
            await asyncio.shield(self.outbox.stop())
            await asyncio.shield(gate.stop())

    def _on_connector_health(self, name: str, health: Health) -> None:
        self._set_health(name, health.state, health.detail)

    def _set_health(self, name: str, state: str, detail: str) -> None:
        with self._lock:
            if self._health.get(name) == (state, detail):
                return
            self._health[name] = (state, detail)
        self._health_listeners.call(name, state, detail)


async def _quietly_stop(connector: Connector) -> None:
    try:
        async with asyncio.timeout(10):
            await connector.stop()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("connector %s did not stop cleanly", connector.spec.name, exc_info=True)


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{err.__class__.__name__}: {text}" if text else err.__class__.__name__
