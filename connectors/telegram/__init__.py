"""Telegram bots: Bot API long polling or a webhook in, the Bot API out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_NEVER, ChannelPolicy


class TelegramOptions(ConnectorOptions):
    token: str = ""  # from @BotFather; required to start
    mode: Literal["polling", "webhook"] = "polling"
    api_base: str | None = None  # default https://api.telegram.org; a local Bot API server
    webhook_url: str | None = None  # default: public_url + /hooks/telegram/{name}
    public_url: str | None = None  # filled from server.public_url
    webhook_secret: str | None = None  # default: derived from the token and channel name
    poll_timeout: float = Field(25, ge=0)
    conflict_limit: int = Field(5, ge=1)
    backoff_initial: float = Field(1.0, ge=0)
    backoff_max: float = Field(60.0, ge=0)
    max_body_bytes: int = Field(1_048_576, ge=1)
    media_dir: str | None = None  # inbound files (default: the user data dir)
    max_media_bytes: int = Field(25 * 1024 * 1024, ge=1)  # inbound file size cap (Bot API: 20 MB)


POLICY = ChannelPolicy("telegram", 4096, idempotent_send=False, write_first=WRITE_FIRST_NEVER,
                       native_quote=True)

PLUGIN = ChannelPlugin(kind="telegram", options=TelegramOptions, policy=POLICY,
                       connector="connectors.telegram.connector:TelegramConnector",
                       title="Telegram", tag="TG", docs="docs/telegram.md")
