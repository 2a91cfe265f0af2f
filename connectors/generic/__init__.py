"""The generic chat API: HMAC-signed JSON webhooks in, signed POSTs out."""

from __future__ import annotations

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_ALWAYS, ChannelPolicy


class GenericOptions(ConnectorOptions):
    secret: str = ""  # the HMAC key of both directions; required to start
    send_url: str | None = None  # where replies are POSTed
    require_timestamp: bool = False  # refuse webhooks without a signed timestamp header


POLICY = ChannelPolicy("generic", None, idempotent_send=True, write_first=WRITE_FIRST_ALWAYS,
                       native_quote=True)  # `quote: {id, text}` in the signed JSON

PLUGIN = ChannelPlugin(kind="generic", options=GenericOptions, policy=POLICY,
                       connector="connectors.generic.connector:GenericConnector",
                       title="Generic API", tag="API", docs="docs/channels.md")
