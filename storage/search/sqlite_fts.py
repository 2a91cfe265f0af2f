"""Searching the SQLite FTS5 index (see :mod:`storage.search.index` for its schema).

Newest-first walks the index backwards by rowid and stops at the limit, which costs
the same for a rare and a common word; ranking (bm25) must score every match, so a
ranked search first reads at most ``cap + 1`` matching ids (newest first) and ranks
only when that found all of them. Hit rows come from one statement
(:mod:`storage.search.hitsql`): the match picks the ids, the joins read the rest.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from storage.search.hitsql import CONTACT_SELECT, TASK_SELECT, hit_sql
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


MATCH = "search_message_fts MATCH ?"
# Attachment names of m, in order, as a JSON array ('[]' when there are none).
ATTACHMENTS = ("(SELECT json_group_array(x.name) FROM (SELECT a.name AS name FROM attachment a "
               "WHERE a.message_id = m.id ORDER BY a.id) x)")
HIT_SQL = hit_sql(ATTACHMENTS)
NEWEST = "h.id DESC"
BEST = "h.r, h.id DESC"
IDS = "(SELECT value FROM json_each(?))"  # a JSON array of ids: one SQL text for any count


class SqliteBackend:
    param = "?"

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def _hits(self, inner: str, params: list[Any], order: str) -> list[tuple[Any, ...]]:
        return self._rows(HIT_SQL.format(inner=inner, order=order), params)

    def hits(self, q: Query, where: str, params: list[Any], ranked: bool, limit: int,
             cap: int) -> tuple[list[tuple[Any, ...]], bool]:
        """Up to ``limit`` hit rows, best or newest first, and whether they were ranked.

        Ranking is asked for: one bounded pass over the index (newest first, at most
        ``cap + 1`` ids) says whether the words are selective enough to rank; when
        they are not and nothing filters, that pass already holds the newest hits.
        """
        expr = match_expr(q.terms, q.excluded)
        if ranked:
            newest = [r[0] for r in self._rows(
                f"SELECT rowid FROM search_message_fts WHERE {MATCH} ORDER BY rowid DESC "
                f"LIMIT ?", [expr, cap + 1])]
            if not newest:
                return [], True
            if len(newest) <= cap:
                return self._matches(expr, where, params, True, limit), True
            if not where and len(newest) >= limit:
                return self.rows_by_ids(newest[:limit]), False
        return self._matches(expr, where, params, False, limit), False

    def _matches(self, expr: str, where: str, params: list[Any], ranked: bool,
                 limit: int) -> list[tuple[Any, ...]]:
        join = " JOIN message m ON m.id = f.rowid JOIN task t ON t.id = m.task_id" if where else ""
        rank, order, outer = (", f.rank AS r", "f.rank, f.rowid DESC", BEST) if ranked else (
            "", "f.rowid DESC", NEWEST)
        inner = (f"SELECT f.rowid AS id{rank} FROM search_message_fts f{join} WHERE {MATCH}"
                 f"{where} ORDER BY {order} LIMIT ?")
        return self._hits(inner, [expr, *params, limit], outer)

    def rows_by_ids(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """Hit rows for message ``ids``, newest first."""
        return self._hits("SELECT value AS id FROM json_each(?)", [json.dumps(ids)], NEWEST)

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[Any, ...]]:
        """Newest messages passing the filters (a query of filters and exclusions only)."""
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message_fts x WHERE x.rowid = m.id "
                     "AND search_message_fts MATCH ?)")
            args.append(any_expr(q.excluded))
        inner = (f"SELECT m.id AS id FROM message m JOIN task t ON t.id = m.task_id "
                 f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT ?")
        return self._hits(inner, [*args, limit], NEWEST)

    def tasks(self, q: Query, where: str, params: list[Any], limit: int) -> list[int]:
        join = " JOIN task t ON t.id = f.rowid" if where else ""
        sql = (f"SELECT f.rowid FROM search_task_fts f{join} "
               f"WHERE search_task_fts MATCH ?{where} ORDER BY f.rowid DESC LIMIT ?")
        return [r[0] for r in self._rows(sql, [match_expr(q.terms, q.excluded), *params, limit])]

    def contacts(self, terms: tuple[Term, ...], any_of: bool, where: str, params: list[Any],
                 limit: int) -> list[int]:
        expr = any_expr(terms) if any_of else match_expr(terms)
        join = " JOIN contact c ON c.id = f.rowid" if where else ""
        sql = (f"SELECT f.rowid FROM search_contact_fts f{join} "
               f"WHERE search_contact_fts MATCH ?{where} ORDER BY f.rank LIMIT ?")
        return [r[0] for r in self._rows(sql, [expr, *params, limit])]

    def task_rows(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """TASK_SELECT rows of tasks ``ids`` (any order)."""
        return self._rows(f"SELECT {TASK_SELECT} FROM task t WHERE t.id IN {IDS}",
                          [json.dumps(ids)])

    def contact_rows(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """CONTACT_SELECT rows of contacts ``ids`` (any order)."""
        return self._rows(f"SELECT {CONTACT_SELECT} FROM contact c WHERE c.id IN {IDS}",
                          [json.dumps(ids)])
