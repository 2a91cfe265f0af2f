"""From the config file to a :class:`connectors.gateway.Gateway`.

The channels themselves are made to exist in the database by ``console.bootstrap``
(``ensure_channel``); here each configured channel is looked up by name for its id
and paired with its connector options, which never go into the database (they hold
tokens).
"""

from __future__ import annotations

from dataclasses import fields

from connectors.automation import worker_for
from connectors.base import ChannelSpec, options_model
from connectors.gateway import Gateway
from connectors.http_server import ServerLimits
from connectors.ingest_process import writer_for
from console.config import Config
from storage.auto_assign import AutoAssigner
from storage.store import Store


def channel_specs(store: Store, config: Config) -> list[ChannelSpec]:
    """One spec per configured channel; ``options.public_url`` defaults to the server's
    for the kinds whose options have it (Telegram's webhook mode builds its address
    from it); the others' models forbid unknown keys."""
    specs = []
    for channel in config.channels:
        row = store.channel_by_name(channel.name)
        options = dict(channel.options or {})
        if (config.server.public_url and not options.get("public_url")
                and "public_url" in options_model(channel.kind).model_fields):
            options["public_url"] = config.server.public_url
        specs.append(ChannelSpec(id=row.id, name=channel.name, kind=channel.kind,
                                 settings=dict(row.settings or {}), options=options))
    return specs


def server_limits(config: Config) -> ServerLimits:
    """The ``server:`` section's limits (same names as :class:`ServerLimits`' fields)."""
    return ServerLimits(**{f.name: getattr(config.server, f.name) for f in fields(ServerLimits)})


def make_gateway(store: Store, config: Config, *, helper_process: bool = False) -> Gateway:
    """A gateway for every configured channel; nothing runs until ``await gateway.start()``.

    ``helper_process``: inbound messages are committed by a helper process where the
    database allows it (``switchboard serve``, ``server.ingest_process``), else by a
    thread of this one (:func:`connectors.ingest_process.writer_for`).

    The HTTP port is bound here, so :meth:`Gateway.addresses` is exact before start
    (and names the fallback port when the configured one is taken).
    """
    server = config.server
    gateway = Gateway(store, channel_specs(store, config), host=server.host, port=server.port,
                      max_body_bytes=server.max_body_bytes, public_url=server.public_url,
                      limits=server_limits(config),
                      writer=writer_for(store, store.bus, store.db.database,
                                        in_process=not helper_process))
    gateway.automation = worker_for(store, config.rules,
                                    config.path.parent if config.path is not None else None)
    gateway.assigner = AutoAssigner(store)  # channels with settings.auto_assign: true
    gateway.bind()
    return gateway
