"""Hypothesis over the Telegram connector's pure inbound parser and secret check.

The contract (connectors/telegram/parse.py): ``parse_update`` returns a new message, an
edit or an ``Ignored`` update, or raises ``ParseError`` with a non-empty reason —
nothing else escapes, whatever JSON arrives; what it returns is storable (valid UTF-8,
no NUL, which PostgreSQL refuses). ``check_secret`` never raises and accepts exactly
the configured secret.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.telegram.parse import (
    EditedMessage,
    Ignored,
    NewMessage,
    ParseError,
    check_secret,
    parse_update,
)
from tests.reliability.conftest import JSON, TEXT, mutate

VALID: dict[str, Any] = {
    "update_id": 10,
    "message": {
        "message_id": 5, "date": 1_700_000_000,
        "from": {"id": 42, "is_bot": False, "first_name": "Иван", "last_name": "Петров",
                 "username": "ivan", "language_code": "ru"},
        "chat": {"id": 42, "type": "private", "first_name": "Иван"},
        "text": "Здравствуйте",
        "photo": [{"file_id": "a", "width": 90, "height": 90, "file_size": 100},
                  {"file_id": "b", "width": 800, "height": 600, "file_size": 9000}],
        "document": {"file_id": "d", "file_name": "счёт.pdf", "mime_type": "application/pdf"},
        "sticker": {"file_id": "s", "emoji": "😀", "is_animated": False},
        "location": {"latitude": 55.75, "longitude": 37.61},
        "contact": {"phone_number": "+79160000000", "first_name": "Иван", "user_id": 42},
        "caption": "подпись",
    },
}
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _storable(value: str) -> None:
    assert isinstance(value, str)
    value.encode("utf-8")  # raises on lone surrogates
    assert "\x00" not in value


def _check(update: Any) -> None:
    try:
        result = parse_update(update, channel_id=3)
    except ParseError as err:
        assert str(err).strip(), "a ParseError must say why"
        return
    assert isinstance(result, NewMessage | EditedMessage | Ignored)
    if isinstance(result, Ignored):
        assert result.reason.strip()
        return
    inbound = result.inbound
    assert inbound.channel_id == 3
    assert inbound.chat_id and inbound.sender_id and inbound.external_id
    for text in (inbound.text, inbound.display_name, inbound.username, inbound.phone,
                 inbound.chat_id, inbound.sender_id, inbound.external_id):
        _storable(text)
    for a in inbound.attachments:
        _storable(a.name)
        _storable(a.location)
        assert a.size >= 0


@FAST
@given(JSON)
def test_arbitrary_json_never_escapes(update: Any) -> None:
    _check(update)


@FAST
@given(st.data())
def test_mutated_updates_never_escape(data: st.DataObject) -> None:
    base = copy.deepcopy(VALID)
    if data.draw(st.booleans()):
        base["edited_message"] = base.pop("message")
    _check(mutate(base, data))


@FAST
@given(TEXT, st.one_of(st.none(), TEXT, st.binary(max_size=20).map(lambda b: b.decode("latin-1"))))
def test_check_secret_never_raises_and_is_exact(expected: str, got: str | None) -> None:
    ok = check_secret(expected, got)
    assert ok is (bool(expected) and got == expected)
    if expected:
        assert check_secret(expected, expected)


def test_valid_update_parses() -> None:
    """The base of the mutations is itself a valid update (or the fuzzing proves little)."""
    result = parse_update(copy.deepcopy(VALID), channel_id=3)
    assert isinstance(result, NewMessage)
    assert result.inbound.external_id == "42:5"
    assert "Здравствуйте" in result.inbound.text
