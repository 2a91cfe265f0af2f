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


# What a hit needs, read in the same statement as the match (one round trip).
HIT_COLUMNS = "m.id, m.task_id, m.kind, m.text, m.created_at, o.name, c.name"
HIT_JOINS = ("LEFT JOIN operator o ON o.id = m.author_operator_id "
             "LEFT JOIN contact c ON c.id = m.author_contact_id")


class PostgresBackend:
    param = "%s"

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def newest_ids(self, q: Query, cap: int) -> list[int]:
        """Up to ``cap`` matching message ids, newest first, no filters."""
        sql = ("SELECT id FROM search_message WHERE tsv @@ to_tsquery('simple', %s) "
               "ORDER BY id DESC LIMIT %s")
        return [r[0] for r in self._rows(sql, [tsquery(q.terms, q.excluded), cap])]

    def rows_by_ids(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """Hit rows for ``ids``, in that order."""
        marks = ", ".join(["%s"] * len(ids))
        sql = (f"SELECT {HIT_COLUMNS} FROM message m {HIT_JOINS} WHERE m.id IN ({marks}) "
               f"ORDER BY m.id DESC")
        return self._rows(sql, list(ids))

    def messages(self, q: Query, where: str, params: list[Any], ranked: bool,
                 limit: int) -> list[tuple[Any, ...]]:
        order = "ts_rank(s.tsv, to_tsquery('simple', %s)) DESC, s.id DESC" if ranked else "s.id DESC"
        expr = tsquery(q.terms, q.excluded)
        sql = (f"SELECT {HIT_COLUMNS} FROM search_message s "
               f"JOIN message m ON m.id = s.id JOIN task t ON t.id = m.task_id {HIT_JOINS} "
               f"WHERE s.tsv @@ to_tsquery('simple', %s){where} ORDER BY {order} LIMIT %s")
        args = [expr, *params, *([expr] if ranked else []), limit]
        return self._rows(sql, args)

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[Any, ...]]:
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message x WHERE x.id = m.id "
                     "AND x.tsv @@ to_tsquery('simple', %s))")
            args.append(any_query(q.excluded))
        sql = (f"SELECT {HIT_COLUMNS} FROM message m JOIN task t ON t.id = m.task_id {HIT_JOINS} "
               f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT %s")
        return self._rows(sql, [*args, limit])

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
