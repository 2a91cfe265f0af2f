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


WINDOW = 5_000  # newest rows sampled to tell a common word from a rare one

# What a hit needs, read in the same statement as the match (one round trip).
HIT_COLUMNS = "m.id, m.task_id, m.kind, m.text, m.created_at, o.name, c.name"
HIT_JOINS = ("LEFT JOIN operator o ON o.id = m.author_operator_id "
             "LEFT JOIN contact c ON c.id = m.author_contact_id")


class PostgresBackend:
    param = "%s"
    # The planner cannot tell a rare word from a common one behind a prefix (':*'), and
    # picks a backwards primary-key walk that reads the whole table for a rare word. A
    # cheap bounded probe tells them apart; a selective query then reads its matches
    # from the GIN index first (a MATERIALIZED CTE) and sorts those few.
    probe_always = True
    probe_ordered = False

    def __init__(self, db: pw.Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def newest_ids(self, q: Query, cap: int) -> list[int]:
        """Up to ``cap`` matching ids (in no particular order): a selectivity probe.

        Two bounded steps: the newest ``WINDOW`` rows (a backwards primary-key walk)
        estimate the density; a word clearly common by that estimate needs no more
        (``cap`` zeros stand for "many"). Otherwise the GIN index is read (bitmap scan
        forced: the planner misjudges prefixes) for at most ``cap`` matches.
        """
        expr = tsquery(q.terms, q.excluded)
        with self.db.atomic():
            seen = self._rows(
                "SELECT count(*) FROM (SELECT tsv FROM search_message ORDER BY id DESC "
                "LIMIT %s) w WHERE tsv @@ to_tsquery('simple', %s)", [WINDOW, expr])[0][0]
            rows = self._rows("SELECT reltuples FROM pg_class WHERE oid = 'search_message'::regclass",
                              [])
            total = max(float(rows[0][0]) if rows else 0.0, WINDOW)
            if seen and seen * total / WINDOW > 2 * cap:
                return [0] * cap
            self.db.execute_sql("SET LOCAL enable_seqscan = off")
            self.db.execute_sql("SET LOCAL enable_indexscan = off")
            found = self._rows("SELECT id FROM search_message WHERE tsv @@ "
                               "to_tsquery('simple', %s) LIMIT %s", [expr, cap])
        return [r[0] for r in found]

    def rows_by_ids(self, ids: list[int]) -> list[tuple[Any, ...]]:
        """Hit rows for ``ids``, in that order."""
        marks = ", ".join(["%s"] * len(ids))
        sql = (f"SELECT {HIT_COLUMNS} FROM message m {HIT_JOINS} WHERE m.id IN ({marks}) "
               f"ORDER BY m.id DESC")
        return self._rows(sql, list(ids))

    def messages(self, q: Query, where: str, params: list[Any], ranked: bool,
                 limit: int, selective: bool = False) -> list[tuple[Any, ...]]:
        """Matching messages as hit rows (HIT_COLUMNS), best or newest first."""
        order = "ts_rank(s.tsv, to_tsquery('simple', %s)) DESC, s.id DESC" if ranked else "s.id DESC"
        expr = tsquery(q.terms, q.excluded)
        if selective:
            # "+ 0": sort the few matches; never walk message's key hoping to stop early
            order = order.replace("s.id DESC", "s.id + 0 DESC")
            source = ("(WITH found AS MATERIALIZED (SELECT id, tsv FROM search_message "
                      "WHERE tsv @@ to_tsquery('simple', %s)) SELECT * FROM found) s")
            match = ""
        else:
            source = "search_message s"
            match = "s.tsv @@ to_tsquery('simple', %s)"
        sql = (f"SELECT {HIT_COLUMNS} FROM {source} "
               f"JOIN message m ON m.id = s.id JOIN task t ON t.id = m.task_id {HIT_JOINS} "
               f"WHERE {match or 'TRUE'}{where} ORDER BY {order} LIMIT %s")
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
