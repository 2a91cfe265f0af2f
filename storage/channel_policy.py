"""What each kind of channel allows: writing first, reply windows, text limits, idempotent sends.

Connectors speak the wire protocols; the *rules* the store enforces are data here, so
the store can refuse an operation before anything is queued. Each channel package
declares its :class:`ChannelPolicy` (``connectors/<kind>/__init__.py``); the console
collects them from ``connectors.registry.policies()`` and hands them to
``Store.open(url, policies=...)`` (storage never imports the connectors). Inside
storage the rules are read through the store: ``store.policy(kind)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.i18n import _

# How a channel lets the company open a conversation (``ChannelPolicy.write_first``).
WRITE_FIRST_NEVER = "never"  # the client must write first (Telegram, Messenger, Instagram)
WRITE_FIRST_TEMPLATE = "template"  # only an approved template (WhatsApp)
WRITE_FIRST_CONSENT = "consent"  # if the user allowed messages from the company (VK, Viber)
WRITE_FIRST_ALWAYS = "always"  # the web chat (while known), the generic API
WRITE_FIRST_CHOICES = (WRITE_FIRST_NEVER, WRITE_FIRST_TEMPLATE, WRITE_FIRST_CONSENT,
                       WRITE_FIRST_ALWAYS)

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
    title: str = ""  # the channel's human name in messages ("Telegram"); default: the kind
    tag: str = ""  # the short tag in the task list ("TG"); default: the kind's first letters

    def __post_init__(self) -> None:
        if self.write_first not in WRITE_FIRST_CHOICES:
            raise ValueError(f"write_first must be one of {WRITE_FIRST_CHOICES}: {self.write_first!r}")
        if self.limit_unit not in (LIMIT_CHARS, LIMIT_UTF8_BYTES):
            raise ValueError(f"unknown limit unit {self.limit_unit!r}")

    @property
    def name(self) -> str:
        return self.title or self.kind

    @property
    def short_tag(self) -> str:
        """At most three characters for the task list's channel column."""
        return (self.tag or self.kind[:3].upper() or "—")[:3]


def unknown_kind_policy(kind: str) -> ChannelPolicy:
    """The rules of a kind nobody declared: no limit, no window, sends not idempotent."""
    return ChannelPolicy(kind, None, idempotent_send=False)


class Policies:
    """Every kind's :class:`ChannelPolicy`, as given to the store; callable by kind."""

    def __init__(self, policies: Mapping[str, ChannelPolicy] | None = None) -> None:
        self._by_kind = dict(policies or {})
        for kind, found in self._by_kind.items():
            if found.kind != kind:
                raise ValueError(f"policy for {kind!r} declares kind {found.kind!r}")

    def __call__(self, kind: str) -> ChannelPolicy:
        found = self._by_kind.get(kind)
        return found if found is not None else unknown_kind_policy(kind)

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._by_kind)


def write_first_refusal(rules: ChannelPolicy, *, template: str | None,
                        last_client_message_at: datetime | None, now: datetime,
                        identity_allows: bool = True) -> str | None:
    """Why the company may not open a conversation in this channel (None: it may).

    Data-driven: ``rules.write_first`` says how a conversation may be opened. Where the
    client must write first (``never``) and the channel has a reply ``window``, writing
    while the client's last message is inside the window is a reply, so it is allowed.
    """
    channel = rules.name
    mode = rules.write_first
    if mode == WRITE_FIRST_NEVER:
        if rules.window is None:
            return _("A {channel} bot cannot start a conversation: the client must write "
                     "first.").format(channel=channel)
        if last_client_message_at is None or now - last_client_message_at > rules.window:
            return _("{channel} allows messages only within {hours} hours of the client's "
                     "last message.").format(channel=channel, hours=_hours(rules.window))
        return None
    if mode == WRITE_FIRST_TEMPLATE and not template:
        return _("{channel} allows writing first only with an approved template "
                 "message.").format(channel=channel)
    if mode == WRITE_FIRST_CONSENT and not identity_allows:
        return _("This client has not allowed messages from the company in {channel}.").format(
            channel=channel)
    return None


def _hours(window: timedelta) -> int:
    return max(1, round(window.total_seconds() / 3600))
