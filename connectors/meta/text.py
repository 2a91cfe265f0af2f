"""Cutting a long reply into parts the platform accepts, at natural boundaries.

Messenger counts characters (2,000), WhatsApp characters (4,096), Instagram UTF-8 bytes
(1,000: about 550 Cyrillic characters). A part ends at a blank line, then a line break,
then a space in the second half of the window; only a word longer than the window is cut
hard, and never inside a character.
"""

from __future__ import annotations

from storage.channel_policy import LIMIT_UTF8_BYTES


def measure(text: str, unit: str) -> int:
    return len(text.encode("utf-8")) if unit == LIMIT_UTF8_BYTES else len(text)


def _fits(text: str, limit: int, unit: str) -> int:
    """How many leading characters of ``text`` fit in ``limit`` units."""
    if unit != LIMIT_UTF8_BYTES:
        return min(len(text), limit)
    used = count = 0
    for char in text:
        used += len(char.encode("utf-8"))
        if used > limit:
            break
        count += 1
    return count


def split_text(text: str, limit: int, unit: str = "chars") -> list[str]:
    """``text`` in parts of at most ``limit`` units (see the module docstring)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while measure(rest, unit) > limit:
        room = _fits(rest, limit, unit)
        window = rest[:room + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep, room // 2)
            if 0 < at <= room:
                cut = at
                break
        if cut <= 0:
            head, rest = rest[:room], rest[room:]
        else:
            head, rest = rest[:cut], rest[cut:].lstrip("\n ")
        if head.strip():
            parts.append(head.rstrip())
    if rest.strip():
        parts.append(rest)
    return parts
