"""Searching the PostgreSQL index: ``tsvector`` side tables with GIN indexes.

The query becomes a ``tsquery`` built from already-split, folded words, each quoted
as a lexeme, so nothing a user types is parsed as tsquery syntax. Newest-first lets
the planner walk the primary key backwards and check each row's vector (cheap for a
common word) or use the GIN index and sort (cheap for a rare one); ranking uses
``ts_rank`` and, as on SQLite, only when the query is selective. Every step is one
round trip (:meth:`PostgresBackend.hits` says which), and the hit rows, their tasks
and attachment names come back in one statement (:mod:`storage.search.hitsql`).
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from storage.search.hitsql import TASK_SELECT, hit_sql
from storage.search.query import Query, Term
from storage.search.side import Side


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


WINDOW = 5_000  # newest rows sampled to tell a common word from a rare one
TSQ = "to_tsquery('simple', %s)"
# Attachment names of m, in order: a JSON array (a list from psycopg2), NULL when none.
ATTACHMENTS = "(SELECT json_agg(a.name ORDER BY a.id) FROM attachment a WHERE a.message_id = m.id)"
HIT_SQL = hit_sql(ATTACHMENTS)
NEWEST = "h.id DESC"
BEST = "h.r DESC, h.id DESC"
# The newest matches among the newest WINDOW rows, at most %s of them (the walk stops
# there: a common word is decided after a few hundred rows), and the table's size.
WINDOW_SQL = (f"SELECT array_agg(x.id), (SELECT reltuples FROM pg_class "
              f"WHERE oid = 'search_message'::regclass) "
              f"FROM (SELECT w.id FROM (SELECT id, tsv FROM search_message ORDER BY id DESC "
              f"LIMIT %s) w WHERE w.tsv @@ {TSQ} ORDER BY w.id DESC LIMIT %s) x")
# The matches read from the GIN index (the planner misjudges ':*' prefixes, so the
# other plans are switched off for this one statement: SET LOCAL ends with it).
GIN_SQL = ("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
           f"SELECT id FROM search_message WHERE tsv @@ {TSQ} LIMIT %s")


class PostgresBackend:
    param = "%s"
    tie_by_id = True  # equal contact ranks: by id, as the inner query orders them

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def _local(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Run ``sql``, which starts with SET LOCAL, so that the settings end with it."""
        if not self.db.in_transaction():  # the statements are their own transaction
            return self._rows(sql, params)
        # Inside a caller's transaction SET LOCAL would outlive the statement: undo it.
        self.db.execute_sql("SAVEPOINT sb_local")
        try:
            return self._rows(sql, params)
        finally:
            self.db.execute_sql("ROLLBACK TO SAVEPOINT sb_local; RELEASE SAVEPOINT sb_local")

    def _hits(self, inner: str, params: list[Any], order: str) -> list[tuple[Any, ...]]:
        return self._rows(HIT_SQL.format(inner=inner, order=order), params)

    def hits(self, q: Query, where: str, params: list[Any], ranked: bool, limit: int,
             cap: int) -> tuple[list[tuple[Any, ...]], bool]:
        """Up to ``limit`` hit rows, best or newest first, and whether they were ranked.

        The planner cannot tell a rare word from a common one behind a prefix (':*')
        and, for newest-first, walks the primary key backwards — reading the whole
        table for a rare word. So: (1) the newest ``WINDOW`` rows are walked for the
        newest ``limit`` matches; finding them, or enough matches to call the word
        common, means it is not ranked, and its newest hits are those (read them by
        id) or, with filters, found by the backwards walk, which stops soon. (2)
        Otherwise the GIN index gives at most ``cap + 1`` matches; if that is all of
        them they are ranked or sorted (3) by id, else (3') the backwards walk.
        Two or three round trips; nothing reads more than it must.
        """
        expr = tsquery(q.terms, q.excluded)
        newest, total = self._rows(WINDOW_SQL, [WINDOW, expr, limit])[0]
        newest = list(newest or ())
        # Found ``limit`` before the window's end: at least that density, else exact.
        density = len(newest) / WINDOW
        if newest and density * max(float(total or 0), WINDOW) > 2 * cap:
            if not where and len(newest) >= limit:
                return self.rows_by_ids(newest), False
            return self._matches(expr, where, params, False, limit, None), False
        found = self._gin(expr, cap + 1)
        if not found:
            return [], ranked
        if len(found) <= cap:
            return self._matches(expr, where, params, ranked, limit, found), ranked
        return self._matches(expr, where, params, False, limit, None), False

    def _gin(self, expr: str, cap: int) -> list[int]:
        """At most ``cap`` matching ids, in no particular order, read from the GIN index."""
        return [r[0] for r in self._local(GIN_SQL, [expr, cap])]

    def _matches(self, expr: str, where: str, params: list[Any], ranked: bool, limit: int,
                 ids: list[int] | None) -> list[tuple[Any, ...]]:
        """Hit rows of the matches (``ids``: all of them are known), best or newest first."""
        join = " JOIN message m ON m.id = s.id JOIN task t ON t.id = m.task_id" if where else ""
        args: list[Any] = [expr] if ranked else []
        if ids is None:
            cond = f"s.tsv @@ {TSQ}"
            args.append(expr)
        else:
            cond = "s.id = ANY(%s)"
            args.append(ids)
        rank, order, outer = (f", ts_rank(s.tsv, {TSQ}) AS r", "r DESC, s.id DESC", BEST
                              ) if ranked else ("", "s.id DESC", NEWEST)
        inner = (f"SELECT s.id{rank} FROM search_message s{join} WHERE {cond}{where} "
                 f"ORDER BY {order} LIMIT %s")
        return self._hits(inner, [*args, *params, limit], outer)

    def rows_by_ids(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """Hit rows for message ``ids``, newest first."""
        return self._hits("SELECT unnest(%s::bigint[]) AS id", [list(ids)], NEWEST)

    def scan(self, q: Query, where: str, params: list[Any], limit: int) -> list[tuple[Any, ...]]:
        """Newest messages passing the filters (a query of filters and exclusions only)."""
        extra = ""
        args = list(params)
        if q.excluded:
            extra = (" AND NOT EXISTS (SELECT 1 FROM search_message x WHERE x.id = m.id "
                     f"AND x.tsv @@ {TSQ})")
            args.append(any_query(q.excluded))
        inner = (f"SELECT m.id AS id FROM message m JOIN task t ON t.id = m.task_id "
                 f"WHERE m.kind <> 'event'{where}{extra} ORDER BY m.id DESC LIMIT %s")
        return self._hits(inner, [*args, limit], NEWEST)

    def task_branch(self, side: Side, q: Query, where: str, params: list[Any],
                    limit: int) -> None:
        """Tasks whose number, title, description or data match (newest first)."""
        join = " JOIN task t ON t.id = s.id" if where else ""
        side.tasks(f"SELECT s.id FROM search_task s{join} WHERE s.tsv @@ {TSQ}{where} "
                   f"ORDER BY s.id DESC LIMIT %s", [tsquery(q.terms, q.excluded), *params, limit])

    def _contact_match(self, terms: tuple[Term, ...], any_of: bool,
                       where: str) -> tuple[str, str]:
        join = " JOIN contact c ON c.id = s.id" if where else ""
        return (f"SELECT s.id, -ts_rank(s.tsv, {TSQ}) AS k FROM search_contact s{join} "
                f"WHERE s.tsv @@ {TSQ}{where} ORDER BY k, s.id LIMIT %s",
                any_query(terms) if any_of else tsquery(terms))

    def contacts(self, terms: tuple[Term, ...], any_of: bool, where: str, params: list[Any],
                 limit: int) -> list[int]:
        """Ids of the contacts matching ``terms`` (all, or ``any_of``), best first."""
        sql, expr = self._contact_match(terms, any_of, where)
        return [r[0] for r in self._rows(sql, [expr, expr, *params, limit])]

    def contact_branch(self, side: Side, terms: tuple[Term, ...], any_of: bool, where: str,
                       params: list[Any], limit: int, latest: str,
                       latest_params: list[Any]) -> None:
        sql, expr = self._contact_match(terms, any_of, where)
        side.contacts(sql, [expr, expr, *params, limit], latest, latest_params)

    def known_contacts(self, side: Side, ids: list[int], latest: str,
                       latest_params: list[Any]) -> None:
        """Contacts ``ids``, in that order."""
        side.contacts("SELECT u.id, u.k FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(id, k)",
                      [list(ids)], latest, latest_params)

    def task_rows(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """TASK_SELECT rows of tasks ``ids`` (any order)."""
        return self._rows(f"SELECT {TASK_SELECT} FROM task t WHERE t.id = ANY(%s)",
                          [list(ids)])
