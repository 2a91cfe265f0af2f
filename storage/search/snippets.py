"""Snippets: a plain-text window of a message around what matched, with ranges to highlight.

Done in Python on the raw stored text (not with the engines' own snippet functions)
so both backends give the same snippets, the text is shown exactly as the client
wrote it, and highlighting is a list of ``(start, end)`` ranges the widget turns into
styles; nothing here is markup. Newlines, tabs and carriage returns become spaces
(one character for one, so ranges stay right).
"""

from __future__ import annotations

import re

from storage.search.query import fold

_WORD_PIECE = re.compile(r"[^\W_]+")
_FLAT = str.maketrans({"\n": " ", "\r": " ", "\t": " ", "\v": " ", "\f": " "})
SCAN_LIMIT = 20_000  # a megabyte-long message costs no more than its head
ELLIPSIS = "…"


def matches(token: str, words: tuple[tuple[str, bool], ...]) -> bool:
    folded = fold(token)
    return any(folded.startswith(w) if prefix else folded == w for w, prefix in words)


def make_snippet(text: str, words: tuple[tuple[str, bool], ...],
                 width: int = 140) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` cut to about ``width`` characters around the first match, and match ranges."""
    head = text[:SCAN_LIMIT].translate(_FLAT)
    spans = [(m.start(), m.end()) for m in _WORD_PIECE.finditer(head)
             if matches(m.group(), words)] if words else []
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 4)
    if start > 0:  # begin at a word boundary
        space = head.rfind(" ", max(0, start - 15), start + 1)
        start = space + 1 if space >= 0 else start
    end = min(len(head), start + width)
    if end < len(head):
        space = head.rfind(" ", first + 1, end)
        end = space if space > start + width // 2 else end
    body = head[start:end].strip(" ")
    lead = len(head[start:end]) - len(head[start:end].lstrip(" "))
    offset = -start - lead
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    shift = offset + len(prefix)
    ranges = tuple((s + shift, e + shift) for s, e in spans
                   if s >= start + lead and e <= start + lead + len(body))
    return prefix + body + suffix, ranges
