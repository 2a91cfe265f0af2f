"""``switchboard serve``: run the connectors without the console.

For a team on PostgreSQL one machine runs this; every console then only reads and
writes the shared database (replies reach the outbox worker here through LISTEN/NOTIFY).
On a SQLite file it holds a marker (:mod:`connectors.serve_marker`) so consoles on the
same file do not start a second gateway. Several ``serve`` may run on one database:
each channel's poller runs in the one holding its lease (:mod:`connectors.leased`).
It prints where it listens and runs until SIGINT or SIGTERM, then stops cleanly:
in-flight sends are recorded, the ingest writer commits what it has.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from storage.i18n import _


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help=_("run the channel connectors (web chat, webhooks, outbox) without the console"),
        description=_("Run the gateway: the HTTP server for the web chat and webhooks, every "
                      "configured channel and the outbox worker, until interrupted."))
    parser.add_argument("--host", default=None, help=_("listen on this address (overrides server.host)"))
    parser.add_argument("--port", type=int, default=None,
                        help=_("listen on this port (overrides server.port; 0 picks a free one)"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from console.bootstrap import open_store, serve_marker
    from console.cli import load
    from console.gateway_wiring import make_gateway

    config = load(args)
    server = config.server
    if args.host is not None:
        server = replace(server, host=args.host)
    if args.port is not None:
        server = replace(server, port=args.port)
    config = replace(config, server=server)
    store = open_store(config, args.db)
    marker = serve_marker(store)  # consoles on this SQLite file leave the channels to us
    try:
        if marker is not None:
            marker.hold()
        # with the auto-assigner (team mode); inbound committed by a helper process
        gateway = make_gateway(store, config, helper_process=config.server.ingest_process)
        asyncio.run(_serve(gateway))
    finally:
        if marker is not None:
            marker.release()
        store.close()
    return 0


async def _serve(gateway: Any, stop: asyncio.Event | None = None) -> None:
    """Start the gateway, print where it listens and every channel that failed (and why),
    and run until ``stop`` is set (SIGINT/SIGTERM when not given)."""
    from connectors.base import FAILED

    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    # A channel that could not even be set up (its connector missing or broken) failed
    # while the gateway was built, before anyone listened: say so first. Nothing runs
    # until start(), so no change can fall between this snapshot and the subscription.
    for name, (state, detail) in gateway.health().items():
        if state == FAILED:
            report_health(name, state, detail)
    gateway.subscribe_health(report_health)
    await gateway.start()
    try:
        for address in gateway.addresses():
            print(address, flush=True)
        print(_("Serving; press Ctrl+C to stop."), flush=True)
        await stop.wait()
    finally:
        print(_("Stopping…"), file=sys.stderr, flush=True)
        await gateway.stop()


def report_health(name: str, state: str, detail: str) -> None:
    """One line on stderr per health change; a failure names the channel and the reason."""
    from connectors.base import FAILED

    if state == FAILED:
        line = _("Channel {channel} failed to start: {reason}").format(
            channel=name, reason=detail or _("no reason given"))
    else:
        line = _("{channel}: {state}").format(channel=name, state=state)
        line = f"{line} — {detail}" if detail else line
    print(line, file=sys.stderr, flush=True)
