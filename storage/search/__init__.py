"""Full-text search over every conversation, contact and task (issue 10).

``Searcher(store).search(query, operator_id=..., restrict_to_own=..., order=..., limit=...)``
returns :class:`SearchResults`; the query language is in :mod:`storage.search.query`,
the index (FTS5 / tsvector + GIN, kept by triggers) in :mod:`storage.search.index`.
"""

from storage.search.query import Query, QueryError, parse_query
from storage.search.rows import SearchHit, SearchResults, TaskGroup
from storage.search.searcher import Searcher

__all__ = ["Query", "QueryError", "SearchHit", "SearchResults", "Searcher", "TaskGroup",
           "parse_query"]
