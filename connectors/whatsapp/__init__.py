"""WhatsApp Business Cloud API (Meta Graph API)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from connectors.plugin import ChannelPlugin, ConnectorOptions
from storage.channel_policy import WRITE_FIRST_TEMPLATE, ChannelPolicy


class WhatsAppOptions(ConnectorOptions):
    access_token: str = ""
    app_secret: str = ""
    verify_token: str = ""
    phone_number_id: str = ""
    api_base: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    template_language: str = "en_US"  # the default language code of a template
    media_dir: str | None = None  # inbound files (default: the user data dir)
    max_media_bytes: int = Field(25 * 1024 * 1024, ge=1)  # inbound file size cap
    max_body_bytes: int = Field(1_048_576, ge=1)  # webhook body cap
    templates: tuple[str, ...] = ()  # approved template names offered in the composer


POLICY = ChannelPolicy("whatsapp", 4096, idempotent_send=False, window=timedelta(hours=24),
                       write_first=WRITE_FIRST_TEMPLATE, native_quote=True)

PLUGIN = ChannelPlugin(kind="whatsapp", options=WhatsAppOptions, policy=POLICY,
                       connector="connectors.whatsapp.connector:WhatsAppConnector",
                       title="WhatsApp", tag="WA", docs="docs/whatsapp.md")
