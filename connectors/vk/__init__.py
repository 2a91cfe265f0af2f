"""VK community messages: the Callback API or Bots Long Poll in, messages.send out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_CONSENT, ChannelPolicy


class VkOptions(ConnectorOptions):
    access_token: str = ""  # the community's access token (messages permission)
    group_id: int | None = None  # the community id; required for mode: longpoll
    confirmation: str = ""  # the string the Callback API's confirmation event is answered with
    secret: str = ""  # the Callback API's secret key (required for mode: callback)
    api_base: str = "https://api.vk.com"
    api_version: str = "5.199"
    mode: Literal["callback", "longpoll"] = "callback"
    public_url: str | None = None  # filled from server.public_url (shown as the address)
    poll_wait: int = Field(25, ge=1, le=90)  # Bots Long Poll ``wait`` seconds
    backoff_initial: float = Field(1.0, ge=0)
    backoff_max: float = Field(60.0, ge=0)
    max_body_bytes: int = Field(1_048_576, ge=1)
    media_dir: str | None = None  # inbound files (default: the user data dir)
    max_media_bytes: int = Field(25 * 1024 * 1024, ge=1)  # inbound file size cap


POLICY = ChannelPolicy("vk", 9000, idempotent_send=True, write_first=WRITE_FIRST_CONSENT,
                       native_quote=True)

PLUGIN = ChannelPlugin(kind="vk", options=VkOptions, policy=POLICY,
                       connector="connectors.vk.connector:VkConnector",
                       title="VK", tag="VK", docs="docs/vk.md", ready=True)
