"""Text folding shared by quick-reply matching and search: case-insensitive, ё = е."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Case-fold and treat ё/Ё as е, so ``СЧЁТ`` matches ``счет``."""
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    return [w for w in fold(text).split() if w]


def digits(text: str) -> str:
    """Only the digits of ``text`` (phone numbers compare this way)."""
    return _DIGITS.sub("", text)
