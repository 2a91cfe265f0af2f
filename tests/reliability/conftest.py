"""Shared pieces of the reliability tests: the ``slow`` marker, JSON strategies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st


def pytest_configure(config: pytest.Config) -> None:
    # Registered here because pyproject.toml belongs to the lead; CI still runs `slow`.
    config.addinivalue_line("markers", "slow: a bounded but slower reliability test (CI runs it)")


# Text that stresses parsers: lone surrogates (valid in JSON, invalid UTF-8), NUL,
# control and bidi characters, Cyrillic, markup-looking strings.
SURROGATES = ["\ud800", "\udfff", "a\udc80b"]
NASTY_LIST = [
    "", "\x00", "\x1b[31mred\x1b[0m", "\x1b]8;;http://x\x07link\x1b]8;;\x07",
    "[bold]x[/bold]", "[link=http://evil]x[/]", "\u202eevil\u202c", "\u200b\u200d\ufeff",
    "Привет, мир", "ёЁ", "\r\n\t", "%s%n{0}", "A" * 5000, "😀" * 3,
]
NASTY = st.sampled_from(NASTY_LIST + SURROGATES)
TEXT = st.one_of(st.text(max_size=40), NASTY)


def json_values(text: Any) -> Any:
    scalars = st.one_of(st.none(), st.booleans(),
                        st.integers(min_value=-2**63, max_value=2**64),
                        st.floats(allow_nan=True), text)
    return st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=4),
                                   st.dictionaries(text, children, max_size=5)),
        max_leaves=20,
    )


# Lone surrogates and NUL are drawn everywhere: storage makes every text storable
# (storage/text.py, U+FFFD), so a message holding them is stored, never a poison retry.
JSON: Any = json_values(TEXT)


def mutate(base: Any, data: st.DataObject, depth: int = 0, values: Any = None) -> Any:
    """``base`` with some values replaced by arbitrary JSON, some keys dropped or added."""
    if isinstance(base, dict):
        out = {}
        for key, value in base.items():
            choice = data.draw(st.integers(0, 9))
            if choice == 0:
                continue  # drop the key
            out[key] = (data.draw(JSON if values is None else values) if choice == 1
                        else mutate(value, data, depth + 1, values))
        if data.draw(st.integers(0, 5)) == 0:
            out[data.draw(TEXT)] = \
                data.draw(JSON if values is None else values)
        return out
    if isinstance(base, list):
        return [mutate(v, data, depth + 1, values) for v in base]
    return data.draw(JSON if values is None else values) if data.draw(st.integers(0, 4)) == 0 else base
