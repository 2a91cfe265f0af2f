"""The results page is the same as before issue 20's rewrite of the search internals.

``golden_search_<backend>.json`` was recorded with the search as it was (separate
side statements, full task rows, a probe then a ranked query); the page for every
case in :data:`tests.search.golden.CASES` — Cyrillic, ё/е, phone digits, filters,
task numbers, exclusions, empty results, both orders, a two-hit page, restricted
operators — must still be equal, field for field. The backends rank differently
(bm25 vs ts_rank), hence one file each.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.search.conftest import World
from tests.search.golden import CASES, enrich, page

HERE = Path(__file__).parent


def test_the_page_is_the_same_as_before(world: World, backend: str) -> None:
    enrich(world)
    expected = json.loads((HERE / f"golden_search_{backend}.json").read_text("utf-8"))
    got = json.loads(json.dumps(page(world), ensure_ascii=False))
    assert len(got) == len(expected) == len(CASES)
    for before, now in zip(expected, got, strict=True):
        assert now == before, (before["query"], before["args"])


@pytest.mark.parametrize("query", ["nothing-here-xyz", "#999", "status:open zzzq", "+7 999 000-00-00"])
def test_empty_results_are_empty(world: World, query: str) -> None:
    from storage.search import Searcher

    results = Searcher(world.store).search(query)
    assert results.empty and results.hits == () and results.contact_task_ids == ()
