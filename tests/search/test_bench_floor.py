"""The search benchmark's floor (``bench.search_floor``) returns the API's page.

The benchmark divides the API's time by the floor's; the ratio means something only
if the hand-written SQL returns what the API returns (the same hits in the same
order, one more row for "more", the same matching tasks and contacts) on both
backends, for both orders, for words and phrases, selective or not.
"""

from __future__ import annotations

import pytest

from bench.search_bench import same_page
from bench.search_floor import floor
from storage.search import Searcher
from tests.search.conftest import World
from tests.search.golden import enrich


@pytest.mark.parametrize("order", ["relevance", "newest"])
def test_the_floor_returns_the_apis_page(world: World, order: str) -> None:
    enrich(world)
    store = world.store
    for i in range(60):  # more than a page, so "capped" and the 51st row count
        store.note(world.petr_task, world.anna, f"заказ {i}: доставка, добрый день")
    for text in ("заказ", "refund", "цеппелин", "зака дост", '"добрый день"', "ольг",
                 "invoice", "счет", "nothing-here-xyz"):
        res = Searcher(store).search(text, order=order, limit=50)  # type: ignore[arg-type]
        ranked = order == "relevance" and res.ranked
        for selective in (False, True):
            page = floor(store, text, ranked, selective)()
            assert same_page(res, page), (text, order, selective)
            assert len(page[0]) == min(len(res.hits) + res.capped, 51)
