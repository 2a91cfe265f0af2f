"""Searching the SQLite FTS5 index (see :mod:`storage.search.index` for its schema).

Newest-first walks the index backwards by rowid and stops at the limit, which costs
the same for a rare and a common word. Ranking (bm25) must score every match, and is
used only when there are at most ``cap`` of them, so a ranked search first learns
that — without matching twice when it can help it (:meth:`SqliteBackend.hits`). Hit
rows come from one statement (:mod:`storage.search.hitsql`): the match picks the ids,
the joins read the rest; the matching tasks and contacts from one more
(:mod:`storage.search.side`).
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from storage.search.hitsql import TASK_SELECT, hit_sql
from storage.search.query import Query, Term
from storage.search.side import Side


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
IDS = "(SELECT value FROM json_each(?))"  # a JSON array of ids: one SQL text for any count
SAMPLE = 51  # newest matches read at least, to tell a common word from a rare one
PROBE_SQL = f"SELECT rowid FROM search_message_fts WHERE {MATCH} ORDER BY rowid DESC LIMIT ?"
# Every match (at most cap + 1) with its bm25 score, the value ``rank`` orders by. bm25
# first counts the rows matching each phrase (its IDF): cheap for a rare phrase, a whole
# pass over the index for a common one, so it is read only for words that look rare.
SCORED_SQL = (f"SELECT rowid, bm25(search_message_fts) FROM search_message_fts WHERE {MATCH} "
              f"ORDER BY rowid DESC LIMIT ?")
RANKED_IDS = "SELECT key AS r, value AS id FROM json_each(?)"  # ids in rank order


def _estimate(newest: list[int]) -> float:
    """How many messages match, from the span of ids the newest matches were found in
    (the same density over every older id)."""
    return len(newest) * newest[0] / max(newest[0] - newest[-1] + 1, 1)


class SqliteBackend:
    param = "?"
    tie_by_id = False  # equal contact ranks keep FTS5's order

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def _hits(self, inner: str, params: list[Any], order: str) -> list[tuple[Any, ...]]:
        return self._rows(HIT_SQL.format(inner=inner, order=order), params)

    def hits(self, q: Query, where: str, params: list[Any], ranked: bool, limit: int,
             cap: int) -> tuple[list[tuple[Any, ...]], bool]:
        """Up to ``limit`` hit rows, best or newest first, and whether they were ranked.

        Ranking is asked for: (1) the newest matches (``limit``, at least ``SAMPLE``)
        are read — the floor's own newest-first pass, which stops there. When all of
        them were found that densely that the words must match more than twice
        ``cap`` messages (as on PostgreSQL), they are not ranked and those are the
        newest hits. (2) Otherwise every match, at most ``cap + 1``, is read with its
        bm25 score in one pass: at most ``cap`` are ranked by it (``rank, rowid
        DESC``, as an ``ORDER BY rank`` query would), more are not. Counting first and
        ranking after would match a rare phrase of common words three times.
        """
        expr = match_expr(q.terms, q.excluded)
        if not ranked:
            return self._matches(expr, where, params, limit), False
        sample = max(limit, SAMPLE)
        newest = [r[0] for r in self._rows(PROBE_SQL, [expr, sample])]
        if not newest:
            return [], True
        complete = len(newest) < sample  # every match was read
        if len(newest) > cap if complete else _estimate(newest) > 2 * cap:
            return self._newest(newest, complete, expr, where, params, limit), False
        found = self._rows(SCORED_SQL, [expr, cap + 1])
        if len(found) > cap:
            return self._newest(newest, complete, expr, where, params, limit), False
        best = sorted(found, key=lambda r: (r[1], -r[0]))
        return self._by_rank([r[0] for r in best], where, params, limit), True

    def _newest(self, newest: list[int], complete: bool, expr: str, where: str,
                params: list[Any], limit: int) -> list[tuple[Any, ...]]:
        """The newest hits, given the newest matches (``complete``: all of them)."""
        if not where and (complete or len(newest) >= limit):
            return self.rows_by_ids(newest[:limit])
        return self._matches(expr, where, params, limit)

    def _by_rank(self, ids: list[int], where: str, params: list[Any],
                 limit: int) -> list[tuple[Any, ...]]:
        """Hit rows of the first ``limit`` of ``ids`` (best first) passing the filters."""
        join = " JOIN message m ON m.id = f.id JOIN task t ON t.id = m.task_id" if where else ""
        cond = f" WHERE 1{where}" if where else ""
        inner = f"SELECT f.r, f.id FROM ({RANKED_IDS}) f{join}{cond} ORDER BY f.r LIMIT ?"
        return self._hits(inner, [json.dumps(ids), *params, limit], "h.r")

    def _matches(self, expr: str, where: str, params: list[Any],
                 limit: int) -> list[tuple[Any, ...]]:
        """The newest hits passing the filters, in one statement."""
        join = " JOIN message m ON m.id = f.rowid JOIN task t ON t.id = m.task_id" if where else ""
        inner = (f"SELECT f.rowid AS id FROM search_message_fts f{join} WHERE {MATCH}"
                 f"{where} ORDER BY f.rowid DESC LIMIT ?")
        return self._hits(inner, [expr, *params, limit], NEWEST)

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

    def task_branch(self, side: Side, q: Query, where: str, params: list[Any],
                    limit: int) -> None:
        """Tasks whose number, title, description or data match (newest first)."""
        join = " JOIN task t ON t.id = f.rowid" if where else ""
        side.tasks(f"SELECT f.rowid AS id FROM search_task_fts f{join} "
                   f"WHERE search_task_fts MATCH ?{where} ORDER BY f.rowid DESC LIMIT ?",
                   [match_expr(q.terms, q.excluded), *params, limit])

    def _contact_match(self, terms: tuple[Term, ...], any_of: bool,
                       where: str) -> tuple[str, str]:
        join = " JOIN contact c ON c.id = f.rowid" if where else ""
        return (f"SELECT f.rowid AS id, f.rank AS k FROM search_contact_fts f{join} "
                f"WHERE search_contact_fts MATCH ?{where} ORDER BY f.rank LIMIT ?",
                any_expr(terms) if any_of else match_expr(terms))

    def contacts(self, terms: tuple[Term, ...], any_of: bool, where: str, params: list[Any],
                 limit: int) -> list[int]:
        """Ids of the contacts matching ``terms`` (all, or ``any_of``), best first."""
        sql, expr = self._contact_match(terms, any_of, where)
        return [r[0] for r in self._rows(sql, [expr, *params, limit])]

    def contact_branch(self, side: Side, terms: tuple[Term, ...], any_of: bool, where: str,
                       params: list[Any], limit: int, latest: str,
                       latest_params: list[Any]) -> None:
        sql, expr = self._contact_match(terms, any_of, where)
        side.contacts(sql, [expr, *params, limit], latest, latest_params)

    def known_contacts(self, side: Side, ids: list[int], latest: str,
                       latest_params: list[Any]) -> None:
        """Contacts ``ids``, in that order."""
        side.contacts("SELECT value AS id, key AS k FROM json_each(?)", [json.dumps(ids)],
                      latest, latest_params)

    def task_rows(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """TASK_SELECT rows of tasks ``ids`` (any order)."""
        return self._rows(f"SELECT {TASK_SELECT} FROM task t WHERE t.id IN {IDS}",
                          [json.dumps(ids)])
