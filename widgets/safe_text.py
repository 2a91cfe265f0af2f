"""Make untrusted client text harmless and visible before it reaches the screen.

Clients write whatever their messenger lets them: terminal escape sequences (ANSI
colours, OSC 8 links, OSC 52 clipboard writes, cursor movement), bidi overrides that
make ``evil.exe`` look like ``exe.live``, zero-width characters that hide text, lone
surrogates that cannot be encoded. None of that may act on the operator's terminal
or mislead them, and none of it may silently vanish either (an operator must be able
to see that a message contains something odd). So every such character is replaced
by a visible stand-in:

* C0 controls and DEL become the Unicode "control pictures" (``ESC`` → ``␛``,
  ``BEL`` → ``␇``, ``DEL`` → ``␡``); ``\\n`` and ``\\t`` are kept for the caller's
  layout, ``\\r\\n`` is folded to ``\\n`` (web clients send it) and a lone ``\\r``
  is shown as ``␍`` (it would move the terminal cursor back).
* C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B), bidi embeddings,
  overrides and isolates, zero-width and other invisible format characters, and
  line/paragraph separators become a marker naming the code point: ``‹U+202E›``.
* Lone surrogates become U+FFFD.

Rich markup is never parsed from client text anywhere in the widgets: they build
``rich.text.Text`` from plain strings, so ``[bold red]x[/]`` is shown as typed. This
module only deals with characters.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

__all__ = ["clean", "one_line", "truncate_cells", "MARKER_OPEN", "MARKER_CLOSE"]

MARKER_OPEN = "‹"
MARKER_CLOSE = "›"

# Characters shown as a named marker: C1 controls, invisible format characters,
# bidi controls, line/paragraph separators, interlinear annotation controls.
_MARKED_RANGES = (
    (0x0080, 0x009F),  # C1 controls (8-bit CSI, OSC, ...)
    (0x00AD, 0x00AD),  # soft hyphen: invisible
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark (bidi)
    (0x115F, 0x1160),  # Hangul fillers: blank
    (0x17B4, 0x17B5),  # Khmer inherent vowels: invisible
    (0x180B, 0x180F),  # Mongolian free variation selectors / vowel separator
    (0x200B, 0x200F),  # zero-width space/joiners, LRM, RLM
    (0x2028, 0x2029),  # line / paragraph separator
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x2069),  # bidi isolates
    (0x206A, 0x206F),  # deprecated format characters
    (0x3164, 0x3164),  # Hangul filler
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
)
_C0_KEEP = "\n\t"


def _char_class() -> str:
    parts = []
    for code in range(0x00, 0x20):
        if chr(code) not in _C0_KEEP:
            parts.append(f"\\x{code:02x}")
    parts.append("\\x7f")
    for lo, hi in _MARKED_RANGES:
        parts.append(f"\\u{lo:04x}-\\u{hi:04x}" if lo != hi else f"\\u{lo:04x}")
    parts.append("\\ud800-\\udfff")
    return "[" + "".join(parts) + "]"


_UNSAFE = re.compile(_char_class())
_WHITESPACE_RUN = re.compile(r"\s+")


def _replacement(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC → ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"{MARKER_OPEN}U+{code:04X}{MARKER_CLOSE}"


_CACHE: dict[str, str] = {}


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    rep = _CACHE.get(char)
    if rep is None:
        rep = _CACHE[char] = _replacement(char)
    return rep


def clean(text: str) -> str:
    """Return ``text`` with every control, invisible or bidi character made visible.

    Newlines and tabs are kept (the caller lays them out); ``\\r\\n`` becomes ``\\n``.
    The result never contains a character that a terminal would act on.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_replace, text)


def truncate_cells(text: str, width: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``width`` terminal cells, ending with ``ellipsis`` if cut."""
    if width <= 0:
        return ""
    if len(text) <= width and cell_len(text) <= width:
        return text
    budget = width - cell_len(ellipsis)
    out: list[str] = []
    used = 0
    for char in text:
        w = cell_len(char)
        if used + w > budget:
            break
        out.append(char)
        used += w
    return "".join(out) + ellipsis if budget >= 0 else ellipsis[:width]


def one_line(text: str, width: int) -> str:
    """A safe single-line preview of ``text`` fitting in ``width`` cells.

    Runs of whitespace (newlines and tabs included) fold to one space; only the
    first ``width * 4`` characters are looked at, so a 1 MB message costs nothing.
    """
    head = text[: max(width, 1) * 4 + 16]
    flat = _WHITESPACE_RUN.sub(" ", clean(head)).strip()
    if len(head) < len(text) and cell_len(flat) <= width:
        flat += "…"
    return truncate_cells(flat, width)
