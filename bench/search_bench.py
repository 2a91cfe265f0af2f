"""Search latency through the storage API vs the same query written by hand in SQL.

    python -m bench.search_bench --db PATH|postgresql://… [--messages N] [--runs 300]

``--db`` names a database made by ``python -m bench.generate`` (generated first with
``--messages N`` if it does not exist yet). For each query — a common word (~12 % of
messages), a rare word, two word prefixes, a phrase — it measures p50/p99 of:

* ``api``: ``Searcher(store).search(query)`` as the console calls it (parse, hits with
  snippets, task groups, contacts), by relevance (which falls back to newest first
  when the words match too many messages to rank) and newest first;
* ``sql``: the floor — the same page written by hand (``bench.search_floor``): the
  same 50 hits (and one more, to know there are more) in the API's order, each with
  an engine-made snippet, its author, attachment names and its task's header
  (number, title, status, contact, channel, assignee), and the matching tasks and
  contacts the API also returns — checked equal to the API's page — in the same run,
  same connection, the runs of api, sql and bare interleaved so load from other jobs
  falls on all three alike;
* ``bare``: the bare match alone (message ids and text), for reference.

It prints a Markdown table (ratio = api / sql) and the index size as a ratio of the
messages table. Why ratios: absolute times drift between machines (anchors.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.search_floor import floor
from connectors.registry import policies
from storage.search import Searcher, parse_query
from storage.search.postgres_fts import tsquery
from storage.search.searcher import RANK_CAP
from storage.search.sqlite_fts import match_expr
from storage.store import Store

LIMIT = 50
QUERIES = (
    ("one word, common (~12 %)", "заказ"),
    ("one word, rare (~0.01 %)", "цеппелин"),
    ("two word prefixes", "гаран рем"),
    ("two word prefixes, common", "зака дост"),
    ("phrase", '"добрый день"'),
    ("phrase, rare", '"сломан телефон"'),
)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fns: list[Callable[[], Any]], runs: int) -> list[tuple[float, float, Any]]:
    """(p50 ms, p99 ms, last result) of each function, their runs interleaved.

    Round ``i`` calls every function once, starting from a different one each round,
    so a burst of load from the other jobs on the machine lands on all of them alike
    and the ratio stays fair (timing them one after another let it fall on one).
    """
    for fn in fns:
        fn()  # warm the page cache and the statement cache
    samples: list[list[float]] = [[] for _ in fns]
    results: list[Any] = [None] * len(fns)
    for i in range(runs):
        for k in range(len(fns)):
            j = (i + k) % len(fns)
            t = time.perf_counter()
            results[j] = fns[j]()
            samples[j].append((time.perf_counter() - t) * 1000)
    return [(statistics.median(s), percentile(s, 0.99), r) for s, r in zip(samples, results,
                                                                          strict=True)]


def bare_sql(store: Store, text: str, ranked: bool,
             selective: bool = False) -> Callable[[], list[Any]]:
    """Only the match, for reference: 50 message ids and texts, best or newest first.

    ``selective`` (PostgreSQL): the words match few messages, so read them from the GIN
    index first (a MATERIALIZED CTE) — what anyone tuning this by hand would write.
    """
    q = parse_query(text)
    if store.postgres:
        expr = tsquery(q.terms, q.excluded)
        order = "ts_rank(s.tsv, to_tsquery('simple', %s)) DESC, s.id DESC" if ranked else "s.id DESC"
        source = ("(WITH found AS MATERIALIZED (SELECT id, tsv FROM search_message WHERE "
                  "tsv @@ to_tsquery('simple', %s)) SELECT * FROM found) s" if selective
                  else "search_message s")
        match = "TRUE" if selective else "s.tsv @@ to_tsquery('simple', %s)"
        if selective:
            order = order.replace("s.id DESC", "s.id + 0 DESC")
        sql = (f"SELECT m.id, m.text FROM {source} JOIN message m ON m.id = s.id "
               f"WHERE {match} ORDER BY {order} LIMIT {LIMIT}")
        params: list[Any] = [expr, expr] if ranked else [expr]
    else:
        order = "f.rank, f.rowid DESC" if ranked else "f.rowid DESC"
        sql = (f"SELECT m.id, m.text FROM search_message_fts f JOIN message m ON m.id = f.rowid "
               f"WHERE search_message_fts MATCH ? ORDER BY {order} LIMIT {LIMIT}")
        params = [match_expr(q.terms, q.excluded)]
    return lambda: store.db.execute_sql(sql, params).fetchall()


def same_page(res: Any, page: tuple[list[Any], list[Any]]) -> bool:
    """The API's results and the floor's rows hold the same hits, tasks and contacts."""
    hits, side = page
    return ([h.message_id for h in res.hits] == [r[0] for r in hits[:LIMIT]]
            and res.capped == (len(hits) > LIMIT)
            and {g.task.id for g in res.groups if g.task_matched}
            == {r[1] for r in side if r[0] == "t"}
            and {c.id for c in res.contacts} == {r[1] for r in side if r[0] == "c"})


def matches_upto(store: Store, text: str, cap: int) -> int:
    """How many messages match, counting at most ``cap`` (tells the floor how to read them)."""
    q = parse_query(text)
    if store.postgres:
        sql = ("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
               "SELECT count(*) FROM (SELECT id FROM search_message WHERE "
               "tsv @@ to_tsquery('simple', %s) LIMIT %s) x")
        params: list[Any] = [tsquery(q.terms, q.excluded), cap]
    else:
        sql = ("SELECT count(*) FROM (SELECT rowid FROM search_message_fts WHERE "
               "search_message_fts MATCH ? LIMIT ?)")
        params = [match_expr(q.terms, q.excluded), cap]
    return int(store.db.execute_sql(sql, params).fetchone()[0])


def sizes(store: Store) -> tuple[int, int]:
    """(bytes of the message index, bytes of the message table)."""
    if store.postgres:
        row = store.db.execute_sql("SELECT pg_total_relation_size('search_message'), "
                                   "pg_total_relation_size('message')").fetchone()
        return int(row[0]), int(row[1])
    index = store.db.execute_sql("SELECT sum(pgsize) FROM dbstat WHERE name LIKE "
                                 "'search_message_fts%'").fetchone()[0]
    table = store.db.execute_sql("SELECT sum(pgsize) FROM dbstat WHERE name = 'message'"
                                 ).fetchone()[0]
    return int(index or 0), int(table or 0)


def run(store: Store, runs: int) -> dict[str, Any]:
    searcher = Searcher(store)
    messages = store.m.Message.select().count()
    rows = []
    for label, text in QUERIES:
        for order in ("relevance", "newest"):
            api = partial(searcher.search, text, order=order, limit=LIMIT)
            ranked = order == "relevance" and api().ranked
            selective = matches_upto(store, text, RANK_CAP + 1) <= RANK_CAP
            (a50, a99, res), (s50, s99, page), (b50, _b99, _bare) = timed(
                [api, floor(store, text, ranked, selective),
                 bare_sql(store, text, ranked, selective)], runs)
            assert same_page(res, page), f"{text} {order}: the API and the floor disagree"
            rows.append({"query": label, "text": text, "order": order, "ranked": ranked,
                         "hits": len(res.hits), "api_p50": a50, "api_p99": a99,
                         "sql_p50": s50, "sql_p99": s99, "bare_p50": b50,
                         "ratio_p50": a50 / max(s50, 1e-6), "ratio_p99": a99 / max(s99, 1e-6)})
    index, table = sizes(store)
    return {"backend": "postgresql" if store.postgres else "sqlite", "messages": messages,
            "runs": runs, "rows": rows, "index_bytes": index, "messages_bytes": table,
            "index_ratio": index / max(table, 1)}


def markdown(report: dict[str, Any]) -> str:
    out = [f"**{report['backend']}**, {report['messages']:,} messages, {report['runs']} runs each",
           "", "| query | order | hits | api p50 / p99 ms | sql p50 / p99 ms | ratio p50 / p99 "
           "| bare match p50 ms |", "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        order = r["order"] + ("" if r["order"] == "newest" or r["ranked"] else " → newest")
        out.append(f"| {r['query']} `{r['text']}` | {order} | {r['hits']} | "
                   f"{r['api_p50']:.2f} / {r['api_p99']:.2f} | {r['sql_p50']:.2f} / "
                   f"{r['sql_p99']:.2f} | {r['ratio_p50']:.2f} / {r['ratio_p99']:.2f} | "
                   f"{r['bare_p50']:.2f} |")
    out += ["", f"Index: {report['index_bytes'] / 2**20:.1f} MiB beside "
                f"{report['messages_bytes'] / 2**20:.1f} MiB of messages "
                f"({report['index_ratio']:.2f}×)."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.search_bench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="a database made by bench.generate")
    ap.add_argument("--messages", type=int, default=1_000_000,
                    help="generate this many messages first if --db does not exist")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    a = ap.parse_args(argv)
    if not a.db.startswith("postgres") and not os.path.exists(a.db):
        from bench.generate import main as generate

        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the report alone
            made = generate(["--db", a.db, "--messages", str(a.messages),
                             "--tasks", str(max(a.messages // 10, 10))])
        if made != 0:
            return 2
    store = Store.open(a.db, policies=policies(), progress=lambda label, done, total: print(
        f"{label}: {done:,}/{total:,}", file=sys.stderr))
    try:
        report = run(store, a.runs)
    finally:
        store.close()
    print(json.dumps(report, ensure_ascii=False, indent=2) if a.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
