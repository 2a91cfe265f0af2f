"""The floor of ``bench.search_bench``: a results page written by hand in SQL.

What the search API returns to its callers (the console's results list and
``switchboard search``), and so what the floor returns too, per query:

* the hits, 51 rows (a page of 50 and one more to know there are more), in the API's
  order — newest first (``rowid DESC``), or best first as the API ranks (``rank,
  rowid DESC`` / ``ts_rank DESC, id DESC``) — each with the message (id, task, kind,
  text, time), a snippet made by the engine (FTS5 ``snippet()`` / ``ts_headline``),
  its author's name (the operator's, else the client's), its attachment names, and
  its task's header: number, title, status, contact, channel and assignee;
* the tasks whose number, title or data match (20, newest first) with the same
  header, and the matching contacts (20 by rank) with their phones, e-mails and
  newest task — one ``UNION ALL`` statement, as the API reads them.

Written the way one would by hand for each engine: plain joins, streamed through the
joins when newest first (the walk stops at the page); a ranked page either joins every
match and sorts (few matches) or ranks in a subquery and joins only the page (more
matches; each snippet then re-reads its match) — both are tried and the faster is
the floor; on PostgreSQL the page's ids are picked first and a selective query reads
its matches from the GIN index (a ``MATERIALIZED`` CTE).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from storage.search import parse_query
from storage.search.postgres_fts import tsquery
from storage.search.sqlite_fts import match_expr
from storage.store import Store

PAGE = 51
SIDE = 20

_HEADER = ("t.number, t.title, t.status, t.contact_id, c.name, t.channel_id, ch.kind, ch.name, "
           "t.assignee_id, ao.name")
_HEADER_JOINS = ("LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN channel ch ON "
                 "ch.id = t.channel_id LEFT JOIN operator ao ON ao.id = t.assignee_id ")
_AUTHOR_JOINS = ("LEFT JOIN operator o ON o.id = m.author_operator_id "
                 "LEFT JOIN contact ac ON ac.id = m.author_contact_id ")


def _sqlite(text: str, ranked: bool) -> list[tuple[str, list[Any], str, list[Any]]]:
    """The page's statements; two ways to write a ranked page (the faster one is used)."""
    q = parse_query(text)
    expr = match_expr(q.terms, q.excluded)
    cols = ("m.id, m.task_id, m.kind, m.text, m.created_at, "
            "snippet(search_message_fts, 0, '[', ']', '…', 24), coalesce(o.name, ac.name), "
            "(SELECT group_concat(a.name, ', ') FROM attachment a WHERE a.message_id = m.id), "
            + _HEADER)
    joins = ("JOIN message m ON m.id = f.rowid JOIN task t ON t.id = m.task_id "
             + _AUTHOR_JOINS + _HEADER_JOINS)
    order = "f.rank, f.rowid DESC" if ranked else "f.rowid DESC"
    # newest first, the walk down the index stops at the page; ranked, every match is
    # joined and sorted (cheapest when they are few)
    flat = (f"SELECT {cols} FROM search_message_fts f {joins}"
            f"WHERE search_message_fts MATCH ? ORDER BY {order} LIMIT {PAGE}")
    side = (f"SELECT 't', t.id, {_HEADER}, NULL, NULL, NULL, NULL FROM (SELECT rowid FROM "
            f"search_task_fts WHERE search_task_fts MATCH ? ORDER BY rowid DESC LIMIT {SIDE}) x "
            f"JOIN task t ON t.id = x.rowid {_HEADER_JOINS}"
            f"UNION ALL SELECT 'c', c.id, NULL, c.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            f"NULL, c.phones, c.emails, (SELECT max(id) FROM task WHERE contact_id = c.id), x.rank "
            f"FROM (SELECT rowid, rank FROM search_contact_fts WHERE search_contact_fts MATCH ? "
            f"ORDER BY rank LIMIT {SIDE}) x JOIN contact c ON c.id = x.rowid")
    ways = [(flat, [expr], side, [expr, expr])]
    if ranked:  # rank every match, then join (and make snippets for) the page only
        paged = (f"SELECT {cols} FROM (SELECT rowid, rank FROM search_message_fts WHERE "
                 f"search_message_fts MATCH ? ORDER BY rank, rowid DESC LIMIT {PAGE}) h "
                 f"JOIN search_message_fts f ON f.rowid = h.rowid AND "
                 f"f.search_message_fts MATCH ? {joins}ORDER BY h.rank, h.rowid DESC")
        ways.append((paged, [expr, expr], side, [expr, expr]))
    return ways


def _postgres(text: str, ranked: bool,
              selective: bool) -> list[tuple[str, list[Any], str, list[Any]]]:
    q = parse_query(text)
    expr = tsquery(q.terms, q.excluded)
    tsq = "to_tsquery('simple', %s)"
    cols = (f"m.id, m.task_id, m.kind, m.text, m.created_at, ts_headline('simple', m.text, {tsq}), "
            "coalesce(o.name, ac.name), (SELECT string_agg(a.name, ', ' ORDER BY a.id) FROM "
            "attachment a WHERE a.message_id = m.id), " + _HEADER)
    joins = "JOIN task t ON t.id = m.task_id " + _AUTHOR_JOINS + _HEADER_JOINS
    if selective:  # few matches: read them from the GIN index, then sort those
        source = (f"(WITH found AS MATERIALIZED (SELECT id, tsv FROM search_message WHERE "
                  f"tsv @@ {tsq}) SELECT * FROM found) s")
        match, params = "TRUE", [expr]
    else:
        source, match, params = "search_message s", f"s.tsv @@ {tsq}", []
    # the page's ids first (ordered, limited), then the columns for those rows only
    rank = f", ts_rank(s.tsv, {tsq}) AS r" if ranked else ""
    order = "r DESC, s.id + 0 DESC" if ranked else "s.id + 0 DESC"
    if not selective:
        order = order.replace("s.id + 0", "s.id")
    inner = f"SELECT s.id{rank} FROM {source} WHERE {match} ORDER BY {order} LIMIT {PAGE}"
    inner_params = [*([expr] if ranked else []), *params, *([] if selective else [expr])]
    outer = "h.r DESC, h.id DESC" if ranked else "h.id DESC"
    hits = f"SELECT {cols} FROM ({inner}) h JOIN message m ON m.id = h.id {joins}ORDER BY {outer}"
    side = (f"SELECT 't', t.id, {_HEADER}, NULL, NULL, NULL, NULL FROM (SELECT s.id FROM "
            f"search_task s WHERE s.tsv @@ {tsq} ORDER BY s.id DESC LIMIT {SIDE}) x "
            f"JOIN task t ON t.id = x.id {_HEADER_JOINS}"
            f"UNION ALL SELECT 'c', c.id, NULL, c.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            f"NULL, c.phones, c.emails, (SELECT max(id) FROM task WHERE contact_id = c.id), x.r "
            f"FROM (SELECT s.id, ts_rank(s.tsv, {tsq}) AS r FROM search_contact s WHERE "
            f"s.tsv @@ {tsq} ORDER BY r DESC, s.id LIMIT {SIDE}) x JOIN contact c ON c.id = x.id")
    return [(hits, [expr, *inner_params], side, [expr, expr, expr])]


def floor(store: Store, text: str, ranked: bool, selective: bool = False
          ) -> Callable[[], tuple[list[Any], list[Any]]]:
    """The page for ``text`` by hand: (hit rows, task and contact rows). Where there is
    more than one good way to write it, the one fastest here (median of 5) is used."""
    ways = _postgres(text, ranked, selective) if store.postgres else _sqlite(text, ranked)
    runs = [_runner(store, *way) for way in ways]
    if len(runs) == 1:
        return runs[0]
    return min(runs, key=_median_ms)


def _runner(store: Store, hits: str, hit_params: list[Any], side: str, side_params: list[Any]
            ) -> Callable[[], tuple[list[Any], list[Any]]]:
    db = store.db

    def run() -> tuple[list[Any], list[Any]]:
        return (db.execute_sql(hits, hit_params).fetchall(),
                db.execute_sql(side, side_params).fetchall())
    return run


def _median_ms(fn: Callable[[], Any]) -> float:
    fn()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
