"""Searching the PostgreSQL index: ``tsvector`` side tables with GIN indexes.

The query becomes a ``tsquery`` built from already-split, folded words, each quoted
as a lexeme, so nothing a user types is parsed as tsquery syntax. Newest-first lets
the planner walk the primary key backwards and check each row's vector (cheap for a
common word) or use the GIN index and sort (cheap for a rare one); ranking uses
``ts_rank`` and, as on SQLite, only when the query is selective.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from storage.search.query import Query, Term


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _term(term: Term) -> str:
    parts = [_lexeme(w) for w in term.words]
    if term.prefix:
        parts[-1] += ":*"
    return "(" + " <-> ".join(parts) + ")"


def tsquery(terms: tuple[Term, ...], excluded: tuple[Term, ...] = ()) -> str:
    """A tsquery string: every term (&), none of the excluded (!)."""
    items = [_term(t) for t in terms] + ["!" + _term(t) for t in excluded]
    return " & ".join(items)


def any_query(terms: tuple[Term, ...]) -> str:
    return " | ".join(_term(t) for t in terms)


class PostgresBackend:
    param = "%s"

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def count_upto(self, q: Query, cap: int) -> int:
        sql = ("SELECT count(*) FROM (SELECT 1 FROM search_message "
               "WHERE tsv @@ to_tsquery('simple', %s) LIMIT %s) x")
        return int(self._rows(sql, [tsquery(q.terms, q.excluded), cap])[0][0])

    def messages(self, q: Query, where: str, params: list[Any], ranked: bool,
                 limit: int) -> list[tuple[int, int]]:
        order = "ts_rank(s.tsv, to_tsquery('simple', %s)) DESC, s.id DESC" if ranked else "s.id DESC"
        expr = tsquery(q.terms, q.excluded)
        sql = (f"SELECT s.id, m.task_id FROM search_message s "
               f"JOIN message m ON m.id = s.id JOIN task t ON t.id = m.task_id "
               f"WHERE s.tsv @@ to_tsquery('simple', %s){where} ORDER BY {order} LIMIT %s")
        args = [expr, *params, *([expr] if ranked else []), limit]
        return [(r[0], r[1]) for r in self._rows(sql, args)]

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[int, int]]:
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message x WHERE x.id = m.id "
                     "AND x.tsv @@ to_tsquery('simple', %s))")
            args.append(any_query(q.excluded))
        sql = (f"SELECT m.id, m.task_id FROM message m JOIN task t ON t.id = m.task_id "
               f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT %s")
        return [(r[0], r[1]) for r in self._rows(sql, [*args, limit])]

    def tasks(self, q: Query, where: str, params: list[Any], limit: int) -> list[int]:
        sql = (f"SELECT s.id FROM search_task s JOIN task t ON t.id = s.id "
               f"WHERE s.tsv @@ to_tsquery('simple', %s){where} ORDER BY s.id DESC LIMIT %s")
        return [r[0] for r in self._rows(sql, [tsquery(q.terms, q.excluded), *params, limit])]

    def contacts(self, terms: tuple[Term, ...], any_of: bool, where: str, params: list[Any],
                 limit: int) -> list[int]:
        expr = any_query(terms) if any_of else tsquery(terms)
        sql = (f"SELECT s.id FROM search_contact s JOIN contact c ON c.id = s.id "
               f"WHERE s.tsv @@ to_tsquery('simple', %s){where} "
               f"ORDER BY ts_rank(s.tsv, to_tsquery('simple', %s)) DESC, s.id LIMIT %s")
        return [r[0] for r in self._rows(sql, [expr, *params, expr, limit])]
