"""Viber bots: REST callbacks in, send_message out."""

from __future__ import annotations

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_CONSENT, ChannelPolicy


class ViberOptions(ConnectorOptions):
    token: str = ""  # X-Viber-Auth-Token; also the key of the callbacks' signatures
    api_base: str = "https://chatapi.viber.com"
    sender_name: str = Field("", max_length=28)  # default: the bot account's name, cut to 28
    sender_avatar: str | None = None
    public_url: str | None = None  # filled from server.public_url: the webhook's base
    webhook_url: str | None = None  # default: public_url + /hooks/viber/{channel name}
    max_body_bytes: int = Field(1_048_576, ge=1)
    media_dir: str | None = None  # inbound files (default: the user data dir)
    max_media_bytes: int = Field(25 * 1024 * 1024, ge=1)  # inbound file size cap


POLICY = ChannelPolicy("viber", 7000, idempotent_send=False, write_first=WRITE_FIRST_CONSENT)

PLUGIN = ChannelPlugin(kind="viber", options=ViberOptions, policy=POLICY,
                       connector="connectors.viber.connector:ViberConnector",
                       title="Viber", tag="VB", docs="docs/viber.md", ready=True)
