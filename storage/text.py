"""Text folding shared by quick-reply matching and search: case-insensitive, ё = е."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Case-fold and treat ё/Ё as е, so ``СЧЁТ`` matches ``счет``."""
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    return [w for w in fold(text).split() if w]


def digits(text: str) -> str:
    """Only the digits of ``text`` (phone numbers compare this way)."""
    return _DIGITS.sub("", text)


_SURROGATE = re.compile("[\ud800-\udfff]")
T = TypeVar("T")


def storable(text: str) -> str:
    """``text`` as every backend can store it: lone surrogates (valid in JSON, not in
    UTF-8) and NUL (refused by PostgreSQL) become U+FFFD. Anything else is kept as is:
    making control characters harmless is the display's job, not the store's."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def storable_value(value: Any) -> Any:
    """:func:`storable` applied through strings, lists and dicts (system and client data)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list | tuple):
        return [storable_value(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): storable_value(v) for k, v in value.items()}
    return value


def storable_inbound(inbound: T) -> T:
    """Every text field of an Inbound (and its attachments) made storable."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(inbound):  # type: ignore[arg-type]
        value = getattr(inbound, f.name)
        if isinstance(value, str):
            clean = storable(value)
        elif isinstance(value, dict):  # system data, and the data the client sent
            clean = storable_value(value)
        elif f.name == "attachments":
            clean = tuple(storable_inbound(a) for a in value)
        else:
            continue
        if clean != value:
            changes[f.name] = clean
    return dataclasses.replace(inbound, **changes) if changes else inbound  # type: ignore[type-var]
