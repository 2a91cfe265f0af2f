"""Which messages are ranked, and in which order, after issue 20's one-pass ranking.

SQLite reads the newest matches first; when they are dense enough that the words must
match more than twice ``RANK_CAP`` messages they are the (newest-first) answer;
otherwise every match is read once with its bm25 score and ranked in Python
(``rank, rowid DESC``, what an ``ORDER BY`` would give). PostgreSQL decides from its
window the same way. Both are held to the engine's own ranking query.
"""

from __future__ import annotations

import pytest

import storage.search.searcher as searcher
from storage.search import Searcher
from tests.search.conftest import World


def _notes(world: World, n: int) -> None:
    for i in range(n):
        # different lengths and repeats: different scores
        world.store.note(world.petr_task, world.anna, "бублик " * (1 + i % 4) + f"номер {i}")


def _engine_ranking(world: World, backend: str, word: str) -> list[int]:
    db = world.store.db
    if backend == "postgres":
        return [r[0] for r in db.execute_sql(
            "SELECT id FROM search_message WHERE tsv @@ to_tsquery('simple', %s) "
            "ORDER BY ts_rank(tsv, to_tsquery('simple', %s)) DESC, id DESC LIMIT 50",
            [f"'{word}':*", f"'{word}':*"]).fetchall()]
    return [r[0] for r in db.execute_sql(
        "SELECT rowid FROM search_message_fts WHERE search_message_fts MATCH ? "
        "ORDER BY rank, rowid DESC LIMIT 50", [f'"{word}"*']).fetchall()]


def test_few_matches_are_ranked_as_the_engine_ranks_them(world: World, backend: str) -> None:
    _notes(world, 70)
    results = Searcher(world.store).search("бублик", limit=50)
    assert results.ranked and results.capped
    assert [h.message_id for h in results.hits] == _engine_ranking(world, backend, "бублик")


def test_dense_newest_matches_are_not_ranked(world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _notes(world, 70)
    monkeypatch.setattr(searcher, "RANK_CAP", 5)
    results = Searcher(world.store).search("бублик", limit=50)
    newest = Searcher(world.store).search("бублик", order="newest", limit=50)
    assert not results.ranked and results.capped
    assert [h.message_id for h in results.hits] == [h.message_id for h in newest.hits]
    assert [h.message_id for h in newest.hits] == sorted(
        (h.message_id for h in newest.hits), reverse=True)


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_a_small_page_of_few_matches_is_ranked(world: World, limit: int) -> None:
    """A page smaller than the sample still reads enough to judge, then ranks all."""
    _notes(world, 8)
    results = Searcher(world.store).search("бублик", limit=limit)
    assert results.ranked
    full = Searcher(world.store).search("бублик", limit=50)
    assert [h.message_id for h in results.hits] == [h.message_id for h in full.hits][:limit]
