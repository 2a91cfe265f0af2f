"""The quoted line: how a reply quotes a client message where the channel has no native
quote field (Viber, Messenger, Instagram).

One rule: ``> {quote_text}`` on its own line above the reply, counted in the channel's
text limit. When the line would push the text over the limit it is shortened (ending in
``…``); when not even a short line fits, the reply goes without it: a quote never makes a
send fail. Only the first part of a reply the store split quotes.
"""

from __future__ import annotations

from typing import Any

from storage.channel_policy import LIMIT_UTF8_BYTES

PREFIX = "> "
ELLIPSIS = "…"
MIN_QUOTE_CHARS = 8  # a shorter remnant says nothing: the line is dropped instead


def _size(text: str, unit: str) -> int:
    return len(text.encode("utf-8")) if unit == LIMIT_UTF8_BYTES else len(text)


def quote_of(meta: dict[str, Any] | None) -> str:
    """The quoted text to show for an outbox item's meta, or "" (none, or not its first
    part). One line: control characters and line breaks become spaces."""
    meta = meta or {}
    if int(meta.get("part") or 1) > 1:
        return ""
    text = meta.get("quote_text")
    if not isinstance(text, str):
        return ""
    cleaned = "".join(" " if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) else ch for ch in text)
    return " ".join(cleaned.split())


def with_quote(text: str, quote: str, limit: int, unit: str = "chars") -> str:
    """``text`` with the quoted line above it, shortened or dropped to stay in ``limit``."""
    if not quote:
        return text
    room = limit - _size(text, unit) - _size(PREFIX + "\n", unit)
    if room <= 0:
        return text
    if _size(quote, unit) <= room:
        return f"{PREFIX}{quote}\n{text}"
    room -= _size(ELLIPSIS, unit)
    kept = ""
    for char in quote:
        if _size(kept + char, unit) > room:
            break
        kept += char
    kept = kept.rstrip()
    if len(kept) < MIN_QUOTE_CHARS:
        return text
    return f"{PREFIX}{kept}{ELLIPSIS}\n{text}"
