"""Fit a one-line label into a number of cells: whole words and "…", never a cut word."""

from __future__ import annotations

from rich.cells import cell_len

ELLIPSIS = "…"


def fit_words(text: str, width: int) -> str:
    """``text`` if it fits in ``width`` cells, else its leading whole words and "…".

    A first word longer than the room is the one case cut inside a word (there is no
    whole word to show); a width under one cell gives "".
    """
    if cell_len(text) <= width:
        return text
    if width < 1:
        return ""
    room = width - cell_len(ELLIPSIS)
    words = text.split(" ")
    kept: list[str] = []
    for word in words:
        candidate = " ".join([*kept, word])
        if cell_len(candidate) > room:
            break
        kept.append(word)
    head = " ".join(kept).rstrip(" ·—-:,;(")
    if not head:
        head = _cells(text, room)
    return head + ELLIPSIS


def _cells(text: str, width: int) -> str:
    """The longest prefix of ``text`` that fits in ``width`` cells."""
    out = ""
    for char in text:
        if cell_len(out + char) > width:
            break
        out += char
    return out
