"""Each form of the query language, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from storage.models import DONE
from storage.search import QueryError, Searcher
from tests.search.conftest import World


def texts(world: World, query: str, **kw: object) -> list[str]:
    results = Searcher(world.store).search(query, **kw)  # type: ignore[arg-type]
    return [world.store.get_message(h.message_id).text for h in results.hits if h.message_id]


def test_words_match_by_prefix_in_any_order(world: World) -> None:
    assert texts(world, "inv 447") == ["Please send invoice 4471 for October"]
    assert texts(world, "447 INV") == ["Please send invoice 4471 for October"]
    assert texts(world, "nvoice") == []  # a prefix, not a substring


def test_exact_phrase(world: World) -> None:
    assert texts(world, '"send invoice"') == ["Please send invoice 4471 for October"]
    assert texts(world, '"invoice send"') == []
    assert texts(world, '"invo"') == []  # phrases are whole words


def test_excluded_words(world: World) -> None:
    found = texts(world, "invoice -refund", order="newest")
    assert found == ["Here is the invoice you asked for", "Please send invoice 4471 for October"]


def test_channel_filter_by_name_or_kind(world: World) -> None:
    assert set(texts(world, "refund channel:telegram")) == {
        "Where is my refund?", "invoice 9000 is wrong, I want a refund",
        "check the refund policy before answering"}
    assert texts(world, "refund channel:web") == []
    assert texts(world, "scan channel:WEB") == ["scan attached"]
    with pytest.raises(QueryError) as err:
        Searcher(world.store).search("refund channel:nosuch")
    assert "nosuch" in str(err.value) and err.value.position == 7


def test_from_filter(world: World) -> None:
    assert texts(world, "refund from:client", order="newest") == [
        "invoice 9000 is wrong, I want a refund", "Where is my refund?"]
    assert texts(world, "refund from:note") == ["check the refund policy before answering"]
    assert texts(world, "invoice from:operator") == ["Here is the invoice you asked for"]


def test_operator_filter(world: World) -> None:
    # Written by Anna, or in a task assigned to her.
    assert set(texts(world, "refund @anna")) == {
        "Where is my refund?", "check the refund policy before answering"}
    assert texts(world, "счет @борис") == ["Мне нужен СЧЁТ на оплату"]
    with pytest.raises(QueryError):
        Searcher(world.store).search("refund @nobody")


def test_status_filter(world: World) -> None:
    world.store.set_status([world.petr_task], DONE)
    assert "invoice 9000 is wrong, I want a refund" in texts(world, "refund status:done")
    assert texts(world, "refund status:closed") == []
    world.store.set_status([world.petr_task], "completed")
    assert texts(world, "refund status:closed") == ["invoice 9000 is wrong, I want a refund"]
    assert "invoice 9000 is wrong, I want a refund" not in texts(world, "refund status:open")


def test_dates(world: World) -> None:
    assert texts(world, "refund from:client before:2026-10-03") == ["Where is my refund?"]
    assert texts(world, "refund from:client after:2026-10-05") == [
        "invoice 9000 is wrong, I want a refund"]
    assert texts(world, "refund from:client after:2026-10-03 before:2026-10-05") == []
    assert texts(world, "refund from:client after:2026-10-02 before:2026-10-03") == [
        "Where is my refund?"]


def test_filters_without_words_list_newest_messages(world: World) -> None:
    assert texts(world, "from:client channel:web") == ["scan attached", "Мне нужен СЧЁТ на оплату"]
    assert texts(world, "from:client channel:telegram -refund") == [
        "Please send invoice 4471 for October"]


def test_task_number_jumps(world: World) -> None:
    number = world.store.get_task(world.olga_task).number
    results = Searcher(world.store).search(f"#{number}")
    assert results.jump_task_id == world.olga_task
    assert results.groups[0].task.id == world.olga_task
    assert Searcher(world.store).search("#999999").jump_task_id is None


@pytest.mark.parametrize("phone", ["+7 (916) 123-45-67", "8-916-123-45-67", "+79161234567",
                                   "89161234567", "(916) 123-4567"])
def test_phone_in_any_format_finds_the_contact(world: World, phone: str) -> None:
    results = Searcher(world.store).search(phone)
    assert [c.name for c in results.contacts] == ["Ivan Petrov"]


def test_phone_and_words_search_that_contacts_tasks(world: World) -> None:
    assert set(texts(world, "+7 916 123-45-67 refund")) == {
        "Where is my refund?", "check the refund policy before answering"}


def test_cyrillic_case_and_yo(world: World) -> None:
    assert texts(world, "счет") == ["Мне нужен СЧЁТ на оплату"]
    assert texts(world, "СЧЁТ") == ["Мне нужен СЧЁТ на оплату"]
    assert texts(world, "сч опл") == ["Мне нужен СЧЁТ на оплату"]
    assert texts(world, '"нужен счёт"') == ["Мне нужен СЧЁТ на оплату"]
    names = [c.name for c in Searcher(world.store).search("петр").contacts]
    assert names == ["Пётр"]


def test_attachment_names_are_found(world: World) -> None:
    results = Searcher(world.store).search("contract еж")
    assert [h.snippet for h in results.hits] == ["scan attached  📎 contract-ЁЖ-77.pdf"]


def test_contacts_by_name_email_username(world: World) -> None:
    s = Searcher(world.store)
    assert [c.name for c in s.search("olga@example.com").contacts] == ["Ольга"]
    assert [c.name for c in s.search("ivanp").contacts] == ["Ivan Petrov"]
    assert [c.name for c in s.search("ольг").contacts] == ["Ольга"]


def test_task_title_and_data_match(world: World) -> None:
    results = Searcher(world.store).search("tg-main")  # in the additional data
    matched = {g.task.id for g in results.groups if g.task_matched}
    assert matched == {world.ivan_task, world.petr_task}


def test_results_grouped_by_task(world: World) -> None:
    results = Searcher(world.store).search("refund", order="newest")
    groups = {g.task.id: [h.message_id for h in g.hits] for g in results.groups}
    assert len(groups[world.ivan_task]) == 2 and len(groups[world.petr_task]) == 1
    assert all(h.task_number == world.store.get_task(h.task_id).number
               for g in results.groups for h in g.hits)


def test_operators_restricted_to_own_tasks(world: World) -> None:
    mine = texts(world, "refund", operator_id=world.anna, restrict_to_own=True)
    assert set(mine) == {"Where is my refund?", "check the refund policy before answering"}
    everyone = texts(world, "refund", operator_id=world.anna, restrict_to_own=False)
    assert len(everyone) == 3
    restricted = Searcher(world.store).search(
        f"#{world.store.get_task(world.olga_task).number}", operator_id=world.anna,
        restrict_to_own=True)
    assert restricted.jump_task_id is None and restricted.groups == ()
    assert Searcher(world.store).search("ольг", operator_id=world.anna,
                                        restrict_to_own=True).contacts == ()


def test_relevance_and_newest_orders(world: World) -> None:
    store = world.store
    task = world.petr_task
    store.note(task, world.anna, "refund refund refund refund, the refund again")
    newest = Searcher(store).search("refund", order="newest")
    assert [h.message_id for h in newest.hits] == sorted(
        (h.message_id for h in newest.hits), reverse=True)
    best = Searcher(store).search("refund", order="relevance")
    assert best.ranked
    assert store.get_message(best.hits[0].message_id).text.startswith("refund refund")


def test_common_words_are_not_ranked(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.search.searcher as searcher

    monkeypatch.setattr(searcher, "RANK_CAP", 2)
    results = Searcher(world.store).search("refund")
    assert not results.ranked
    assert [h.message_id for h in results.hits] == sorted(
        (h.message_id for h in results.hits), reverse=True)


def test_limit_caps_hits(world: World) -> None:
    results = Searcher(world.store).search("refund", limit=2)
    assert len(results.hits) == 2 and results.capped


def test_empty_query_finds_nothing(world: World) -> None:
    assert Searcher(world.store).search("   ").empty
    assert Searcher(world.store).search("---").empty
