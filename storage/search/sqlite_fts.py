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


class SqliteBackend:
    param = "?"

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def count_upto(self, q: Query, cap: int) -> int:
        sql = ("SELECT count(*) FROM (SELECT rowid FROM search_message_fts "
               "WHERE search_message_fts MATCH ? LIMIT ?)")
        return int(self._rows(sql, [match_expr(q.terms, q.excluded), cap])[0][0])

    def messages(self, q: Query, where: str, params: list[Any], ranked: bool,
                 limit: int) -> list[tuple[int, int]]:
        """(message id, task id) of matching messages, best or newest first."""
        order = "f.rank, f.rowid DESC" if ranked else "f.rowid DESC"
        sql = (f"SELECT f.rowid, m.task_id FROM search_message_fts f "
               f"JOIN message m ON m.id = f.rowid JOIN task t ON t.id = m.task_id "
               f"WHERE search_message_fts MATCH ?{where} ORDER BY {order} LIMIT ?")
        return [(r[0], r[1]) for r in self._rows(
            sql, [match_expr(q.terms, q.excluded), *params, limit])]

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[int, int]]:
        """Newest messages passing the filters (a query of filters and exclusions only)."""
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message_fts x WHERE x.rowid = m.id "
                     "AND search_message_fts MATCH ?)")
            args.append(any_expr(q.excluded))
        sql = (f"SELECT m.id, m.task_id FROM message m JOIN task t ON t.id = m.task_id "
               f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT ?")
        return [(r[0], r[1]) for r in self._rows(sql, [*args, limit])]

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
