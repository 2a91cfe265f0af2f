"""Snippets: a plain-text window of a message around what matched, with ranges to highlight.

Done in Python on the raw stored text (not with the engines' own snippet functions)
so both backends give the same snippets, the text is shown exactly as the client
wrote it, and highlighting is a list of ``(start, end)`` ranges the widget turns into
styles; nothing here is markup. Newlines, tabs and carriage returns become spaces
(one character for one, so ranges stay right).

Matching uses one regular expression per query over the folded text (lower case,
ё → е), which is the same length as the raw text for every script the index folds;
when lower-casing changes the length (a handful of characters such as ``İ``), the
raw text is matched case-insensitively instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from storage.search.query import fold

_FLAT = re.compile(r"[\n\r\t\v\f]")
SCAN_LIMIT = 20_000  # a megabyte-long message costs no more than its head
ELLIPSIS = "…"
_WORD = r"[^\W_]"


@lru_cache(maxsize=64)
def matcher(words: tuple[tuple[str, bool], ...], ignore_case: bool = False) -> re.Pattern[str]:
    r"""One pattern finding every matched word: prefix words to the word's end.

    Each word checks that it starts a word with a look-behind placed *after* the
    literal (``word(?<![^\W_]word)``): a pattern that starts with a look-behind cannot
    skip ahead to the literal and runs about 3× slower. The folded text is matched
    case-sensitively (both sides are folded the same way; again ~2× faster);
    ``ignore_case`` is for raw text whose folding changed its length.
    """
    alts = sorted({_word(re.escape(w), prefix) for w, prefix in words}, key=len, reverse=True)
    return re.compile("|".join(alts), re.IGNORECASE if ignore_case else 0)


def _word(word: str, prefix: bool) -> str:
    return f"{word}(?<!{_WORD}{word})" + (f"{_WORD}*" if prefix else f"(?!{_WORD})")


def _spans(head: str, words: tuple[tuple[str, bool], ...]) -> list[tuple[int, int]]:
    if not words:
        return []
    folded = fold(head)
    if len(folded) == len(head):
        found = matcher(words).finditer(folded)
    else:
        raw = head.replace("ё", "е").replace("Ё", "Е")
        found = matcher(words, True).finditer(raw)
    return [m.span() for m in found]


def make_snippet(text: str, words: tuple[tuple[str, bool], ...],
                 width: int = 140) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` cut to about ``width`` characters around the first match, and match ranges."""
    head = _FLAT.sub(" ", text[:SCAN_LIMIT])
    spans = _spans(head, words)
    first = spans[0][0] if spans else 0
    if (len(text) <= width and first <= width // 4 and head[:1] != " "
            and head[-1:] != " "):
        return head, tuple(spans)  # the window below would be the whole text, untrimmed
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
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    shift = len(prefix) - start - lead
    ranges = tuple((s + shift, e + shift) for s, e in spans
                   if s >= start + lead and e <= start + lead + len(body))
    return prefix + body + suffix, ranges
