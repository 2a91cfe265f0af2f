"""The built-in web chat: a self-contained page and a websocket served by the gateway."""

from __future__ import annotations

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_ALWAYS, ChannelPolicy


class WebChatOptions(ConnectorOptions):
    title: str | None = None  # the page's heading (default "Chat with us")
    allowed_origins: tuple[str, ...] = ()  # origins besides the server's own
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1)  # a visitor's file, at most
    media_dir: str | None = None  # where visitors' files are kept (default: the data dir)
    public_url: str | None = None  # filled from server.public_url: the chat's own origin


POLICY = ChannelPolicy("webchat", None, idempotent_send=True, write_first=WRITE_FIRST_ALWAYS,
                       history_replay=True, native_quote=True)

PLUGIN = ChannelPlugin(kind="webchat", options=WebChatOptions, policy=POLICY,
                       connector="connectors.webchat.connector:WebChatConnector",
                       title="Web chat", tag="WEB", docs="docs/channels.md")
