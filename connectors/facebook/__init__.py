"""Facebook Messenger through the Meta Graph API (page-scoped ids, a 24-hour window)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import LIMIT_CHARS, WRITE_FIRST_NEVER, ChannelPolicy


class FacebookOptions(ConnectorOptions):
    page_access_token: str = ""
    app_secret: str = ""
    verify_token: str = ""
    page_id: str = ""
    api_base: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    media_dir: str | None = None  # inbound files (default: the user data dir)
    max_media_bytes: int = Field(25 * 1024 * 1024, ge=1)  # inbound file size cap
    max_body_bytes: int = Field(1_048_576, ge=1)  # webhook body cap


POLICY = ChannelPolicy("facebook", 2000, idempotent_send=False, window=timedelta(hours=24),
                       human_agent_window=timedelta(days=7), write_first=WRITE_FIRST_NEVER,
                       limit_unit=LIMIT_CHARS)

PLUGIN = ChannelPlugin(kind="facebook", options=FacebookOptions, policy=POLICY,
                       connector="connectors.facebook.connector:FacebookConnector",
                       title="Facebook Messenger", tag="FB", docs="docs/facebook.md")
