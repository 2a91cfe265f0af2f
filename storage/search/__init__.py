"""Full-text search over every conversation, contact and task (issue 10).

``Searcher(store).search(query, operator_id=..., restrict_to_own=..., order=..., limit=...)``
returns :class:`SearchResults`; the query language is in :mod:`storage.search.query`,
the index (FTS5 / tsvector + GIN, kept by triggers) in :mod:`storage.search.index`.

Names are loaded on first use, so a widget importing ``storage.search.rows`` (plain
rows) does not load the searcher and with it the ORM.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Query": "storage.search.query", "QueryError": "storage.search.query",
    "parse_query": "storage.search.query", "SearchHit": "storage.search.rows",
    "SearchResults": "storage.search.rows", "TaskGroup": "storage.search.rows",
    "SearchTask": "storage.search.rows",
    "Searcher": "storage.search.searcher",
}

__all__ = ["Query", "QueryError", "SearchHit", "SearchResults", "SearchTask", "Searcher",
           "TaskGroup", "parse_query"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'storage.search' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
