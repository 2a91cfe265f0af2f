"""Searching the SQLite FTS5 index (see :mod:`storage.search.index` for its schema).

Newest-first walks the index backwards by rowid and stops at the limit, which costs
the same for a rare and a common word; ranking (bm25) must score every match, so the
searcher asks :meth:`count_upto` first and ranks only selective queries.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from storage.search.query import Query, Term


def _term(term: Term) -> str:
    phrase = '"' + " ".join(w.replace('"', '""') for w in term.words) + '"'
    return phrase + "*" if term.prefix else phrase


def match_expr(terms: tuple[Term, ...], excluded: tuple[Term, ...] = ()) -> str:
    """An FTS5 MATCH expression: every term (AND), none of the excluded (NOT)."""
    expr = "(" + " AND ".join(_term(t) for t in terms) + ")"
    for term in excluded:
        expr += f" NOT ({_term(term)})"
    return expr


def any_expr(terms: tuple[Term, ...]) -> str:
    return " OR ".join(_term(t) for t in terms)


# What a hit needs, read in the same statement as the match (one round trip).
HIT_COLUMNS = "m.id, m.task_id, m.kind, m.text, m.created_at, o.name, c.name"
HIT_JOINS = ("LEFT JOIN operator o ON o.id = m.author_operator_id "
             "LEFT JOIN contact c ON c.id = m.author_contact_id")


class SqliteBackend:
    param = "?"
    probe_always = False  # newest-first walks the index backwards: never needs a probe
    probe_ordered = True  # newest_ids() comes in index order, newest first

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def newest_ids(self, q: Query, cap: int) -> list[int]:
        """Up to ``cap`` matching message ids, newest first, no filters (index order)."""
        sql = ("SELECT rowid FROM search_message_fts WHERE search_message_fts MATCH ? "
               "ORDER BY rowid DESC LIMIT ?")
        return [r[0] for r in self._rows(sql, [match_expr(q.terms, q.excluded), cap])]

    def rows_by_ids(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """Hit rows for ``ids``, in that order."""
        marks = ", ".join("?" * len(ids))
        sql = (f"SELECT {HIT_COLUMNS} FROM message m {HIT_JOINS} WHERE m.id IN ({marks}) "
               f"ORDER BY m.id DESC")
        return self._rows(sql, list(ids))

    def messages(self, q: Query, where: str, params: list[Any], ranked: bool,
                 limit: int, selective: bool = False) -> list[tuple[Any, ...]]:
        """Matching messages as hit rows (HIT_COLUMNS), best or newest first."""
        order = "f.rank, f.rowid DESC" if ranked else "f.rowid DESC"
        sql = (f"SELECT {HIT_COLUMNS} FROM search_message_fts f "
               f"JOIN message m ON m.id = f.rowid JOIN task t ON t.id = m.task_id {HIT_JOINS} "
               f"WHERE search_message_fts MATCH ?{where} ORDER BY {order} LIMIT ?")
        return self._rows(sql, [match_expr(q.terms, q.excluded), *params, limit])

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[Any, ...]]:
        """Newest messages passing the filters (a query of filters and exclusions only)."""
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message_fts x WHERE x.rowid = m.id "
                     "AND search_message_fts MATCH ?)")
            args.append(any_expr(q.excluded))
        sql = (f"SELECT {HIT_COLUMNS} FROM message m JOIN task t ON t.id = m.task_id {HIT_JOINS} "
               f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT ?")
        return self._rows(sql, [*args, limit])

    def tasks(self, q: Query, where: str, params: list[Any], limit: int) -> list[int]:
        sql = (f"SELECT f.rowid FROM search_task_fts f JOIN task t ON t.id = f.rowid "
               f"WHERE search_task_fts MATCH ?{where} ORDER BY f.rowid DESC LIMIT ?")
        return [r[0] for r in self._rows(sql, [match_expr(q.terms, q.excluded), *params, limit])]

    def contacts(self, terms: tuple[Term, ...], any_of: bool, where: str, params: list[Any],
                 limit: int) -> list[int]:
        expr = any_expr(terms) if any_of else match_expr(terms)
        sql = (f"SELECT f.rowid FROM search_contact_fts f JOIN contact c ON c.id = f.rowid "
               f"WHERE search_contact_fts MATCH ?{where} ORDER BY f.rank LIMIT ?")
        return [r[0] for r in self._rows(sql, [expr, *params, limit])]
