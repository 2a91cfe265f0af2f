"""The quoted-line rule (``connectors/quoting.py``): one line above the reply, shortened
or dropped to stay within the channel's limit, only on a reply's first part."""

from __future__ import annotations

from connectors.quoting import quote_of, with_quote
from storage.channel_policy import LIMIT_UTF8_BYTES


def test_the_quoted_line_goes_above_the_reply() -> None:
    assert with_quote("Да", "Есть синий?", 100) == "> Есть синий?\nДа"
    assert with_quote("Да", "", 100) == "Да"


def test_the_line_is_shortened_to_fit_and_dropped_when_nothing_fits() -> None:
    quote = "Подскажите, пожалуйста, про доставку"
    text = "x" * 80
    shortened = with_quote(text, quote, 100)
    assert len(shortened) == 100 and shortened.endswith("…\n" + text)
    assert shortened.startswith("> Подскажите")
    assert with_quote("x" * 95, quote, 100) == "x" * 95  # a remnant under 8 chars: dropped
    assert with_quote("x" * 100, quote, 100) == "x" * 100


def test_bytes_are_counted_for_a_byte_limit() -> None:
    text = "я" * 480  # 960 bytes
    out = with_quote(text, "б" * 100, 1000, LIMIT_UTF8_BYTES)
    assert len(out.encode("utf-8")) <= 1000 and out.endswith("…\n" + text)


def test_quote_of_reads_one_line_and_only_on_the_first_part() -> None:
    assert quote_of({"quote_text": "a\nb\x1b[31m  c"}) == "a b [31m c"
    assert quote_of({"quote_text": "вопрос", "part": 2, "parts": 2}) == ""
    assert quote_of({"quote_text": "вопрос", "part": 1, "parts": 2}) == "вопрос"
    assert quote_of(None) == "" and quote_of({"quote_text": 5}) == ""
