"""VK community messages: the Callback API or Bots Long Poll in, messages.send out."""

from __future__ import annotations

from typing import Literal

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_CONSENT, ChannelPolicy


class VkOptions(ConnectorOptions):
    access_token: str = ""
    group_id: int | None = None
    confirmation: str = ""  # the string the Callback API's confirmation event is answered with
    secret: str = ""  # the Callback API's secret key
    api_base: str = "https://api.vk.com"
    api_version: str = "5.199"
    mode: Literal["callback", "longpoll"] = "callback"


POLICY = ChannelPolicy("vk", 9000, idempotent_send=True, write_first=WRITE_FIRST_CONSENT,
                       native_quote=True)

PLUGIN = ChannelPlugin(kind="vk", options=VkOptions, policy=POLICY,
                       connector="connectors.vk.connector:VkConnector",
                       title="VK", docs="docs/vk.md", ready=False)
