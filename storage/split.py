"""Splitting a reply that is over a channel's text limit, at word boundaries.

The limit is counted the channel's way (``ChannelPolicy.limit_unit``): characters, or
UTF-8 bytes (Instagram). A word longer than the limit by itself is cut inside, never
inside a character.
"""

from __future__ import annotations

import re

from storage.channel_policy import LIMIT_UTF8_BYTES

_WORD = re.compile(r"\S+\s*")


def measure(text: str, unit: str) -> int:
    """The length of ``text`` as the channel counts it."""
    return len(text.encode("utf-8")) if unit == LIMIT_UTF8_BYTES else len(text)


def fits(text: str, limit: int | None, unit: str) -> bool:
    return limit is None or measure(text, unit) <= limit


def split_text(text: str, limit: int, unit: str) -> list[str]:
    """``text`` in parts that each fit ``limit``, broken between words; in order."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    if fits(text, limit, unit):
        return [text]
    parts: list[str] = []
    current = ""
    for word in _WORD.findall(text):
        if fits(current + word.rstrip(), limit, unit):
            current += word
            continue
        if current.strip():
            parts.append(current.rstrip())
        current = ""
        while not fits(word.rstrip(), limit, unit):  # one word longer than the limit
            head = _longest_prefix(word, limit, unit)
            parts.append(head)
            word = word[len(head):]
        current = word
    if current.strip():
        parts.append(current.rstrip())
    return parts


def _longest_prefix(word: str, limit: int, unit: str) -> str:
    if unit != LIMIT_UTF8_BYTES:
        return word[:limit]
    size, end = 0, 0
    for ch in word:
        size += len(ch.encode("utf-8"))
        if size > limit:
            break
        end += 1
    return word[:max(end, 1)]
