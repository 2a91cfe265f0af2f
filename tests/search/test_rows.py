"""The fast paths of a search give the same answers as the slow, obvious ones.

A search reads its hits, their tasks and names in one statement and builds rows from
tuples (storage/search/hitsql.py); it picks among several plans by how common the
words are (storage/search/*_fts.py). These tests hold the rows equal to what the
store builds the ordinary way, and every plan to the same hits, on both backends.
"""

from __future__ import annotations

import peewee as pw
import pytest

import storage.search.postgres_fts as postgres_fts
import storage.search.searcher as searcher
import storage.search.sqlite_fts as sqlite_fts
from storage.search import Searcher, SearchTask, parse_query
from storage.search.snippets import make_snippet
from tests.search.conftest import World

TASK_FIELDS = tuple(SearchTask.__dataclass_fields__)
QUERIES = ("refund", "invoice", "inv 447", '"send invoice"', "refund from:client",
           "refund channel:telegram", "invoice -refund", "refund @anna", "contract еж")


def test_rows_equal_the_stores_own(world: World) -> None:
    store = world.store
    for query in (*QUERIES, "ольг", "+7 (916) 123-45-67", "tg-main"):
        for order in ("relevance", "newest"):
            results = Searcher(store).search(query, order=order)  # type: ignore[arg-type]
            for group in results.groups:
                task = store.get_task(group.task.id)
                assert group.task == SearchTask(**{f: getattr(task, f) for f in TASK_FIELDS})
                for hit in group.hits:
                    message = store.get_message(hit.message_id)
                    assert (hit.task_id, hit.created_at, hit.kind) == (
                        message.task_id, message.created_at, message.kind)
                    assert hit.task_number == group.task.number
            for contact, latest in zip(results.contacts, results.contact_task_ids, strict=True):
                assert contact == store.get_contact(contact.id)
                task_model = store.m.Task
                assert latest == task_model.select(pw.fn.MAX(task_model.id)).where(
                    task_model.contact_id == contact.id).scalar()


def test_the_hit_shows_its_author_and_attachments(world: World) -> None:
    results = Searcher(world.store).search("invoice", order="newest")
    authors = {world.store.get_message(h.message_id).text: h.author for h in results.hits}
    assert authors["Here is the invoice you asked for"] == "Anna"
    assert authors["Please send invoice 4471 for October"] == "Ivan Petrov"
    scan = Searcher(world.store).search("scan").hits[0]
    assert scan.snippet == "scan attached  📎 contract-ЁЖ-77.pdf"


@pytest.mark.parametrize("window", [1, 2, 5_000])
@pytest.mark.parametrize("cap", [0, 1, 500])
@pytest.mark.parametrize("limit", [1, 50])
def test_every_plan_finds_the_same_hits(world: World, monkeypatch: pytest.MonkeyPatch,
                                        window: int, cap: int, limit: int) -> None:
    """Small windows, samples and caps force the plans a big database takes (common
    words read from the window or by the backwards walk, rare ones from the GIN index;
    on SQLite judged dense from a small sample, or scored and ranked)."""
    expected = {q: _ids(Searcher(world.store).search(q, order="newest", limit=limit))
                for q in QUERIES}
    best = {q: Searcher(world.store).search(q, limit=limit) for q in QUERIES}
    monkeypatch.setattr(postgres_fts, "WINDOW", window)
    monkeypatch.setattr(sqlite_fts, "SAMPLE", window)  # SQLite's newest-first sample
    monkeypatch.setattr(searcher, "RANK_CAP", cap)
    for query in QUERIES:
        newest = Searcher(world.store).search(query, order="newest", limit=limit)
        assert _ids(newest) == expected[query], query
        relevance = Searcher(world.store).search(query, limit=limit)
        if relevance.ranked:
            assert _ids(relevance) == _ids(best[query]), query
        else:
            assert _ids(relevance) == expected[query], query


def _ids(results: object) -> tuple[list[int | None], bool]:
    return [h.message_id for h in results.hits], results.capped  # type: ignore[attr-defined]


def test_search_in_a_transaction_leaves_the_planner_as_it_was(world: World,
                                                              backend: str) -> None:
    """PostgreSQL: the GIN read switches plans off with SET LOCAL; inside a caller's
    transaction that would last until its end, so the search undoes it. On both
    backends the caller's transaction is still open and usable afterwards."""
    db = world.store.db
    with db.atomic():
        assert Searcher(world.store).search("refund").hits
        assert db.in_transaction()
        if backend == "postgres":
            assert db.execute_sql("SHOW enable_seqscan").fetchone()[0] == "on"
            assert db.execute_sql("SHOW enable_indexscan").fetchone()[0] == "on"
        else:  # SQLite has no planner switches: the search must not have ended the tx
            assert db.execute_sql("SELECT count(*) FROM task").fetchone()[0] > 0


@pytest.mark.parametrize(("text", "words", "marked"), [
    ("an invoice, invoices and reinvoice", (("invoice", True),), ["invoice", "invoices"]),
    ("an invoice, invoices", (("invoice", False),), ["invoice"]),
    ("Счёт и СЧЕТА, подсчет", (("счет", True),), ["Счёт", "СЧЕТА"]),
    ("İnvoice İstanbul invoice", (("invoice", True),), ["İnvoice", "invoice"]),  # lower() grows İ
    ("x_invoice 1invoice invoice", (("invoice", True),), ["invoice", "invoice"]),  # _ splits
])
def test_highlights_start_at_word_starts(text: str, words: tuple[tuple[str, bool], ...],
                                         marked: list[str]) -> None:
    snippet, ranges = make_snippet(text, words)
    assert [snippet[a:b] for a, b in ranges] == marked


def test_short_texts_keep_the_window_rules() -> None:
    """A short text is shown whole only when the window would not move: a match late
    in it still starts the snippet near the match, and edge spaces are still trimmed."""
    words = parse_query("цеппелин").highlight_words()
    late = "Store payment hi store payment hello why gift item when week цеппелин."
    assert make_snippet(late, words) == ("…payment hello why gift item when week цеппелин.",
                                         ((39, 47),))
    early = "цеппелин прилетел вчера, спасибо"
    assert make_snippet(early, words) == (early, ((0, 8),))
    assert make_snippet("  цеппелин  ", words) == ("цеппелин", ((0, 8),))
    assert make_snippet("нет слова", words) == ("нет слова", ())
