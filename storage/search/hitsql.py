"""One statement per search for everything a hit shows, and the Python rows built from it.

A hit needs its message, the author's name, the attachment names (part of the snippet),
and its task's header (:class:`SearchTask`: the results are grouped under it). Reading
those with separate statements cost a statement each and, on PostgreSQL, a round trip
each; here the match query picks the message ids (the inner query ``h``, ordered and
limited) and one outer query reads the rest for those few rows only (names by scalar
subqueries, see TASK_SELECT). Everything is plain SQL text built once per backend; only
parameters are bound per search (building SQL with peewee costs ~1 ms a statement).

Rows are built straight from tuples: peewee model objects cost ~0.1 ms a row here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from storage.convert import frozen
from storage.rows import ContactRow
from storage.search.query import Query
from storage.search.rows import SearchHit, SearchTask
from storage.search.snippets import make_snippet
from storage.timestamps import from_micros

# A task's header with the names it shows (its contact, channel and assignee). The names
# are scalar subqueries, not joins: PostgreSQL plans a join of eight tables by trying
# its orders (~4 ms, four times running it), a subquery on its own (~0.3 ms in all).
TASK_SELECT = ("t.id, t.number, t.title, t.status, t.contact_id, t.channel_id, t.assignee_id"
               ", (SELECT x.name FROM contact x WHERE x.id = t.contact_id)"
               ", (SELECT x.kind FROM channel x WHERE x.id = t.channel_id)"
               ", (SELECT x.name FROM channel x WHERE x.id = t.channel_id)"
               ", (SELECT x.name FROM operator x WHERE x.id = t.assignee_id)")
TASK_WIDTH = 11

# A hit row: the message, its author's names, its attachment names ({attachments}: a
# backend's correlated aggregate), then its task as TASK_SELECT from column HIT_TASK on.
HIT_SELECT = ("m.id, m.task_id, m.kind, m.text, m.created_at, "
              "(SELECT x.name FROM operator x WHERE x.id = m.author_operator_id), "
              "(SELECT x.name FROM contact x WHERE x.id = m.author_contact_id), {attachments}, "
              + TASK_SELECT)
HIT_TASK = 8
HIT_JOINS = "JOIN message m ON m.id = h.id JOIN task t ON t.id = m.task_id"

CONTACT_SELECT = "c.id, c.name, c.phones, c.emails, c.merged_into_id, c.created_at"


def hit_sql(attachments: str) -> str:
    """The outer query around an inner query ``{inner}`` that yields ``id`` (and ``r``)."""
    return (f"SELECT {HIT_SELECT.format(attachments=attachments)} FROM ({{inner}}) h "
            f"{HIT_JOINS} ORDER BY {{order}}")


def search_task(r: Sequence[Any], i: int = 0) -> SearchTask:
    """A SearchTask from TASK_SELECT's columns, from column ``i`` of ``r`` (the same
    values as the store's TaskRow: a task without a number shows its id)."""
    tid, number, title, status, contact_id, channel_id, assignee_id, contact, kind, channel, \
        assignee = r[i:i + TASK_WIDTH]
    return frozen(SearchTask, {
        "id": tid, "number": number or tid, "title": title, "status": status,
        "contact_id": contact_id, "contact_name": contact or "", "channel_id": channel_id,
        "channel_kind": kind or "", "channel_name": channel or "", "assignee_id": assignee_id,
        "assignee_name": assignee or ""})


def contact_row(r: Sequence[Any], i: int = 0) -> ContactRow:
    """A ContactRow from CONTACT_SELECT's columns (phones and e-mails are JSON text)."""
    cid, name, phones, emails, merged, created = r[i:i + 6]
    return frozen(ContactRow, {
        "id": cid, "name": name, "phones": tuple(json.loads(phones) if phones else ()),
        "emails": tuple(json.loads(emails) if emails else ()), "merged_into_id": merged,
        "created_at": from_micros(created)})


def _names(value: Any) -> list[str]:
    """Attachment names: a JSON array (SQLite gives text, psycopg2 a list), or none."""
    if not value or value == "[]":
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def build_hits(rows: list[Sequence[Any]], q: Query
               ) -> tuple[list[SearchHit], dict[int, SearchTask]]:
    """Hits (with snippets and task numbers) and their tasks, from hit rows, in order."""
    words = q.highlight_words()
    hits: list[SearchHit] = []
    tasks: dict[int, SearchTask] = {}
    for r in rows:
        mid, task_id, kind, text, created_at, operator, contact, attachments = r[:HIT_TASK]
        task = tasks.get(task_id)
        if task is None:
            task = tasks[task_id] = search_task(r, HIT_TASK)
        text = text or ""
        if attachments and attachments != "[]":
            names = _names(attachments)
            text = (text + "  📎 " if text else "📎 ") + ", ".join(names)
        snippet, ranges = make_snippet(text, words)
        hits.append(frozen(SearchHit, {
            "task_id": task_id, "message_id": mid, "snippet": snippet, "highlights": ranges,
            "created_at": from_micros(created_at), "kind": kind, "task_number": task.number,
            "author": operator or contact or ""}))
    return hits, tasks
