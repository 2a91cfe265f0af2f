"""Finding contacts folds letter case on both backends, Cyrillic too, and ё as е."""

from __future__ import annotations

from tests.storage.conftest import Desk


def test_contact_search_folds_case_and_yo(desk: Desk) -> None:
    sergey = desk.say(desk.telegram, "tg-7", "Здравствуйте", display_name="Сергей Ёлкин").contact_id
    olga = desk.say(desk.web, "web-7", "hi", display_name="OLGA Smirnova",
                    email="Olga@Example.com").contact_id

    def found(text: str) -> list[int]:
        return [c.id for c in desk.store.find_contacts(text)]

    for query in ("серг", "СЕРГ", "сЕрГеЙ", "ёлкин", "елкин", "ЕЛКИН"):
        assert sergey in found(query), query
    for query in ("olga", "smirNOVA", "olga@example"):
        assert olga in found(query), query
    assert found("сергеев") == [] and found("olgb") == []
