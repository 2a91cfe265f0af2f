"""Rule 7 — quick replies: words in any order, partial, language filter, ё = е; YAML
import/export; variables expanded at insert time, an unknown one reported."""

from __future__ import annotations

import pytest
import yaml

from storage.errors import RuleViolation, TemplateError
from tests.storage.conftest import Desk, snapshot


@pytest.fixture
def library(desk: Desk) -> Desk:
    s = desk.store
    s.add_quick_reply("Delivery time", "Delivery takes 2-3 days.", "en", ("shipping",))
    s.add_quick_reply("Refund", "Your refund is on its way.", "en", ("money",))
    s.add_quick_reply("Срок доставки", "Доставка занимает 2–3 дня.", "ru", ("доставка",))
    s.add_quick_reply("Счёт", "Счёт отправлен на почту.", "ru", ("оплата",))
    return desk


def titles(rows: list) -> list[str]:
    return sorted(r.title for r in rows)


def test_words_match_in_any_order_and_partially(library: Desk) -> None:
    s = library.store
    assert titles(s.search_quick_replies("time deliv")) == ["Delivery time"]
    assert titles(s.search_quick_replies("deliv time")) == ["Delivery time"]
    assert titles(s.search_quick_replies("ship")) == ["Delivery time"]  # a tag
    assert titles(s.search_quick_replies("REFUND way")) == ["Refund"]
    assert s.search_quick_replies("refund shipping") == []  # every word must match


def test_language_filter(library: Desk) -> None:
    s = library.store
    assert titles(s.search_quick_replies("дост", language="ru")) == ["Срок доставки"]
    assert s.search_quick_replies("дост", language="en") == []
    assert titles(s.search_quick_replies("", language="ru")) == ["Срок доставки", "Счёт"]
    assert titles(s.list_quick_replies("en")) == ["Delivery time", "Refund"]


def test_yo_and_ye_match_each_other(library: Desk) -> None:
    s = library.store
    assert titles(s.search_quick_replies("счет")) == ["Счёт"]
    assert titles(s.search_quick_replies("СЧЁТ ПОЧТ")) == ["Счёт"]
    s.add_quick_reply("Елка", "С новым годом", "ru")
    assert "Елка" in titles(s.search_quick_replies("ёлк"))


def test_yaml_round_trip_with_cyrillic(library: Desk) -> None:
    s = library.store
    exported = s.export_quick_replies()
    assert "Счёт отправлен" in exported  # readable UTF-8, not escapes
    data = yaml.safe_load(exported)
    assert {(d["title"], d["language"]) for d in data} == {
        ("Delivery time", "en"), ("Refund", "en"), ("Срок доставки", "ru"), ("Счёт", "ru")}
    s.m.QuickReply.delete().execute()  # an empty library, then the file back in
    assert s.list_quick_replies() == []
    assert s.import_quick_replies(exported) == 4
    assert yaml.safe_load(s.export_quick_replies()) == data
    assert s.import_quick_replies(exported) == 4  # importing again updates, adds nothing
    assert len(s.list_quick_replies()) == 4


def test_import_updates_by_title_and_language(library: Desk) -> None:
    s = library.store
    n = s.import_quick_replies("- {title: Refund, language: en, text: New text, tags: [a, b]}\n"
                               "- {title: Refund, language: ru, text: Возврат}\n")
    assert n == 2
    en = [r for r in s.list_quick_replies("en") if r.title == "Refund"]
    assert len(en) == 1 and en[0].text == "New text" and en[0].tags == ("a", "b")
    assert [r.text for r in s.list_quick_replies("ru") if r.title == "Refund"] == ["Возврат"]


@pytest.mark.parametrize("text", [
    "- {title: ok, text: fine}\n- {title: broken}\n",  # second entry has no text
    "- [unclosed\n",
    "title: not a list\n",
    "- just a string\n",
    "- {title: '', text: empty title}\n",
])
def test_malformed_yaml_changes_nothing(library: Desk, text: str) -> None:
    before = snapshot(library.store)
    with pytest.raises(RuleViolation):
        library.store.import_quick_replies(text)
    assert snapshot(library.store) == before


def test_variables_expand_at_insert_time(desk: Desk) -> None:
    r = desk.say(desk.web, "v", "hi", display_name="Алёна",
                 system_data={"page": "https://shop.example/pay", "utm_source": "mail"})
    reply = desk.store.add_quick_reply(
        "Hello", "Hello {{contact.name}}, task #{{task.number}}, {{ operator.name }} here. "
                 "From {{task.additional_data.page}}", "en")
    text = desk.store.expand_quick_reply(reply.id, r.task.id, desk.anna)
    number = desk.store.get_task(r.task.id).number
    assert text == (f"Hello Алёна, task #{number}, Anna here. From https://shop.example/pay")
    whole = desk.store.add_quick_reply("Data", "{{task.additional_data}}", "en")
    expanded = desk.store.expand_quick_reply(whole.id, r.task.id, desk.anna)
    assert "page: https://shop.example/pay" in expanded and "utm_source: mail" in expanded


def test_unknown_variable_is_reported_not_dropped(desk: Desk) -> None:
    r = desk.say(desk.web, "v")
    reply = desk.store.add_quick_reply("Bad", "Hi {{contact.nmae}} and {{task.additional_data.x}}")
    with pytest.raises(TemplateError) as err:
        desk.store.expand_quick_reply(reply.id, r.task.id, desk.anna)
    assert err.value.unknown == ("contact.nmae", "task.additional_data.x")
    assert "{{contact.nmae}}" in str(err.value)
    # Without a task, task variables are unknown too.
    ok = desk.store.add_quick_reply("Op", "I am {{operator.name}}; task {{task.number}}")
    with pytest.raises(TemplateError, match="task.number"):
        desk.store.expand_quick_reply(ok.id, None, desk.anna)


def test_add_needs_title_and_text(desk: Desk) -> None:
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation):
        desk.store.add_quick_reply(" ", "text")
    with pytest.raises(RuleViolation):
        desk.store.add_quick_reply("title", "")
    assert snapshot(desk.store) == before
