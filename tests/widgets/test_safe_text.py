"""safe_text: untrusted client text can never act on the terminal or hide content."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from widgets.safe_text import clean, one_line

ACTIVE = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {chr(0x7F)} | {
    chr(c) for c in range(0x80, 0xA0)} | {chr(c) for c in (*range(0x202A, 0x202F),
                                                          *range(0x2066, 0x206A),
                                                          *range(0x200B, 0x2010), 0xFEFF, 0x2060,
                                                          0x2028, 0x2029)}


def _is_unsafe(ch: str) -> bool:
    return ch in ACTIVE or 0xD800 <= ord(ch) <= 0xDFFF


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_clean_leaves_no_active_character(text: str) -> None:
    out = clean(text)
    assert not any(_is_unsafe(ch) for ch in out)
    out.encode("utf-8")  # lone surrogates are gone
    assert clean(out) == out  # idempotent: cleaning twice changes nothing


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
               max_size=200))
def test_ordinary_text_is_unchanged(text: str) -> None:
    text = "".join(ch for ch in text if not _is_unsafe(ch) and ch not in "\u00ad\u034f")
    if any(unicodedata.category(ch) in ("Lo",) and ord(ch) in (0x115F, 0x1160, 0x3164, 0xFFA0)
           for ch in text):
        return
    assert clean(text) == text


def test_escape_sequences_become_visible() -> None:
    out = clean("a\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07")
    assert "\x1b" not in out and "\x07" not in out
    assert "␛[31mred" in out and "␇" in out and "52;c;" in out


def test_bidi_and_zero_width_are_marked() -> None:
    out = clean("invoice\u202Efdp.exe and a\u200bb\u2066c\u2069")
    assert "\u202e" not in out and "\u200b" not in out
    assert "‹U+202E›" in out and "‹U+200B›" in out and "‹U+2066›" in out


def test_newlines_kept_crlf_folded_lone_cr_visible() -> None:
    assert clean("a\r\nb\nc\td") == "a\nb\nc\td"
    assert clean("over\rwrite") == "over␍write"
    assert clean("bad\ud800x") == "bad\ufffdx"


def test_markup_is_displayed_literally() -> None:
    text = Text(clean("[bold red]alert[/] [link=http://x]y[/link]"))
    rendered = "".join(seg.text for seg in text.render(Console(width=80)))
    assert "[bold red]alert[/]" in rendered and "[link=http://x]y[/link]" in rendered
    assert not text.spans


@given(st.text(max_size=500), st.integers(min_value=1, max_value=60))
def test_one_line_fits_and_is_single_line(text: str, width: int) -> None:
    out = one_line(text, width)
    assert cell_len(out) <= width
    assert "\n" not in out and "\t" not in out
    assert not any(_is_unsafe(ch) for ch in out)


def test_one_line_cyrillic_and_wide() -> None:
    assert one_line("Привет,\n  мир", 20) == "Привет, мир"
    assert one_line("日本語のテキスト", 7) == "日本語…"
    assert one_line("x" * 1_000_000, 10) == "xxxxxxxxx…"
