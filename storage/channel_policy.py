"""What each kind of channel allows: writing first, text limits, idempotent sends.

Connectors speak the wire protocols; the *rules* the store enforces live here so the
store can refuse an operation before anything is queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.i18n import _


# How a channel lets the company open a conversation (``ChannelPolicy.write_first``).
WRITE_FIRST_NEVER = "never"  # the client must write first (Telegram, Messenger, Instagram)
WRITE_FIRST_TEMPLATE = "template"  # only an approved template (WhatsApp)
WRITE_FIRST_CONSENT = "consent"  # if the user allowed messages from the company (VK, Viber)
WRITE_FIRST_ALWAYS = "always"  # the web chat (while known), the generic API

LIMIT_CHARS = "chars"
LIMIT_UTF8_BYTES = "utf8_bytes"  # Instagram counts bytes, not characters


@dataclass(frozen=True)
class ChannelPolicy:
    """The storage-level rules of one kind of channel, declared by its plug-in package."""

    kind: str
    text_limit: int | None
    idempotent_send: bool  # the channel offers a key that makes a repeated send a no-op
    window: timedelta | None = None  # replies allowed this long after the client's last message
    human_agent_window: timedelta | None = None  # manual replies allowed this long (Meta's tag)
    write_first: str = WRITE_FIRST_ALWAYS
    limit_unit: str = LIMIT_CHARS
    split_long: bool = True  # a reply over the limit may be split at word boundaries
    attachments: bool = True  # files can be sent through the channel
    history_replay: bool = False  # the channel shows the client their history (web chat)
    native_quote: bool = False  # a reply can quote a client message natively


POLICIES: dict[str, ChannelPolicy] = {
    "telegram": ChannelPolicy("telegram", 4096, idempotent_send=False),
    "whatsapp": ChannelPolicy("whatsapp", 4096, idempotent_send=False, window=timedelta(hours=24)),
    "vk": ChannelPolicy("vk", 9000, idempotent_send=True),
    "viber": ChannelPolicy("viber", 7000, idempotent_send=False),
    "facebook": ChannelPolicy("facebook", 2000, idempotent_send=False, window=timedelta(hours=24)),
    "instagram": ChannelPolicy("instagram", 1000, idempotent_send=False, window=timedelta(hours=24)),
    "webchat": ChannelPolicy("webchat", None, idempotent_send=True),
    "generic": ChannelPolicy("generic", None, idempotent_send=True),
}

KNOWN_KINDS = tuple(POLICIES)


def policy(kind: str) -> ChannelPolicy:
    return POLICIES.get(kind, ChannelPolicy(kind, None, idempotent_send=False))


def write_first_refusal(kind: str, *, template: str | None,
                        last_client_message_at: datetime | None, now: datetime,
                        identity_allows: bool = True) -> str | None:
    """Why the company may not open a conversation in this channel (None: it may)."""
    if kind == "telegram":
        return _("A Telegram bot cannot start a conversation: the client must write first.")
    if kind == "whatsapp" and not template:
        return _("WhatsApp allows writing first only with an approved template message.")
    if kind in ("facebook", "instagram"):
        window = POLICIES[kind].window
        if last_client_message_at is None or window is None or now - last_client_message_at > window:
            return _("{channel} allows messages only within 24 hours of the client's last "
                     "message.").format(channel=kind.capitalize())
    if kind in ("vk", "viber") and not identity_allows:
        return _("This client has not allowed messages from the company in {channel}.").format(
            channel=kind.upper() if kind == "vk" else kind.capitalize())
    return None
