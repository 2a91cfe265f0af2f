"""Viber bots: REST callbacks in, send_message out."""

from __future__ import annotations

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_CONSENT, ChannelPolicy


class ViberOptions(ConnectorOptions):
    token: str = ""  # X-Viber-Auth-Token
    api_base: str = "https://chatapi.viber.com"
    sender_name: str = Field("", max_length=28)
    sender_avatar: str | None = None


POLICY = ChannelPolicy("viber", 7000, idempotent_send=False, write_first=WRITE_FIRST_CONSENT)

PLUGIN = ChannelPlugin(kind="viber", options=ViberOptions, policy=POLICY,
                       connector="connectors.viber.connector:ViberConnector",
                       title="Viber", docs="docs/viber.md", ready=False)
