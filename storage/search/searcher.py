"""One search API over both backends: parse, resolve names, query, build rows.

``Searcher(store).search("inv 447 from:client")`` → :class:`SearchResults`. It runs
synchronously like every storage read (the console calls it from a thread worker).

Costs are bounded by construction: message hits are capped (``limit`` ≤ 200), task
and contact matches at 20 each, and relevance ranking is used only when the words
match at most ``RANK_CAP`` messages — beyond that newest-first is returned (ranking
every hit of a common word is what is slow, anchors.md) and ``ranked`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from storage.i18n import _
from storage.models import from_micros
from storage.rows import ContactRow, TaskRow
from storage.search.postgres_fts import PostgresBackend
from storage.search.query import Query, QueryError, Term, parse_query
from storage.search.rows import SearchHit, SearchResults, TaskGroup
from storage.search.snippets import make_snippet
from storage.search.sqlite_fts import SqliteBackend

RANK_CAP = 2_000
MAX_LIMIT = 200
SIDE_LIMIT = 20
Order = Literal["relevance", "newest"]


@dataclass
class _Scope:
    """Resolved filters: ids instead of names, and who may see what."""

    operator_id: int | None
    restrict: bool
    channel_ids: tuple[int, ...] = ()
    operator_ids: tuple[int, ...] = ()
    contact_ids: tuple[int, ...] | None = None


class Searcher:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.backend: SqliteBackend | PostgresBackend = (
            PostgresBackend(store.db) if store.postgres else SqliteBackend(store.db))
        self.p = self.backend.param

    # ---- the API -------------------------------------------------------------------------
    def search(self, query: str | Query, *, operator_id: int | None = None,
               restrict_to_own: bool = False, order: Order = "relevance",
               limit: int = 50) -> SearchResults:
        """Search messages, tasks and contacts; raises QueryError for a malformed query."""
        q = parse_query(query) if isinstance(query, str) else query
        limit = max(1, min(int(limit), MAX_LIMIT))
        if q.is_empty:
            return SearchResults(query=q.text)
        if restrict_to_own and operator_id is None:
            restrict_to_own = False
        scope = self._scope(q, operator_id, restrict_to_own)
        phone_contacts: list[int] = []
        if q.phones:
            phone_contacts = self._contacts(_phone_terms(q.phones), True, scope)
            scope.contact_ids = tuple(phone_contacts)
        ranked = order == "relevance"
        pairs: list[tuple[int, int]] = []
        if q.terms:
            if ranked:
                ranked = self.backend.count_upto(q, RANK_CAP + 1) <= RANK_CAP
            if scope.contact_ids != ():
                where, params = self._message_where(q, scope)
                pairs = self.backend.messages(q, where, params, ranked, limit + 1)
        elif q.excluded or q.has_filters:
            ranked = False
            if scope.contact_ids != ():
                where, params = self._message_where(q, scope)
                pairs = self.backend.scan(q, where, params, limit + 1)
        capped = len(pairs) > limit
        pairs = pairs[:limit]
        task_only: list[int] = []
        if q.terms and not q.kinds:
            where, params = self._task_where(q, scope)
            task_only = self.backend.tasks(q, where, params, SIDE_LIMIT)
        contact_ids = list(phone_contacts)
        if q.phone_words and not q.has_filters:  # "89161234567": a word and maybe a phone
            contact_ids += self._contacts(_phone_terms(q.phone_words), True, scope)
        if q.terms and not q.has_filters and not q.phones:
            words = tuple(t for t in q.terms)
            contact_ids += self._contacts(words, False, scope)
        jump = self._jump(q, scope)
        hits = self._hits(pairs, q)
        contacts = self._contact_rows(list(dict.fromkeys(contact_ids)))
        if q.phones and not q.terms:
            task_only += self._tasks_of(phone_contacts, scope)
        groups = self._groups(hits, task_only, jump)
        latest = tuple(next(iter(self._tasks_of([c.id], scope)), None) for c in contacts)
        return SearchResults(query=q.text, hits=tuple(hits), groups=groups,
                             contacts=tuple(contacts), contact_task_ids=latest, jump_task_id=jump,
                             ranked=ranked and bool(q.terms), capped=capped)

    # ---- resolving names -----------------------------------------------------------------
    def _scope(self, q: Query, operator_id: int | None, restrict: bool) -> _Scope:
        scope = _Scope(operator_id, restrict)
        if q.channels:
            channels = self.store.list_channels()
            ids: list[int] = []
            for wanted in q.channels:
                found = [c.id for c in channels
                         if c.name.casefold() == wanted or c.kind.casefold() == wanted]
                if not found:
                    raise QueryError(_("There is no channel named {name!r} and no channel of that "
                                       "kind.").format(name=wanted), _where(q.text, "channel:" + wanted, "channel:"))
                ids.extend(found)
            scope.channel_ids = tuple(dict.fromkeys(ids))
        if q.operators:
            operators = self.store.list_operators()
            op_ids: list[int] = []
            for wanted in q.operators:
                found = [o.id for o in operators if o.name.casefold() == wanted]
                if not found:
                    raise QueryError(_("There is no operator named {name!r}.").format(name=wanted),
                                     _where(q.text, "@" + wanted))
                op_ids.extend(found)
            scope.operator_ids = tuple(op_ids)
        return scope

    # ---- SQL conditions ------------------------------------------------------------------
    def _in(self, column: str, values: tuple[Any, ...], params: list[Any]) -> str:
        params.extend(values)
        return f"{column} IN ({', '.join([self.p] * len(values))})"

    def _task_conditions(self, q: Query, scope: _Scope, params: list[Any],
                         assignee_only: bool) -> list[str]:
        p = self.p
        cond: list[str] = []
        if scope.restrict:
            cond.append(f"t.assignee_id = {p}")
            params.append(scope.operator_id)
        if scope.channel_ids:
            cond.append(self._in("t.channel_id", scope.channel_ids, params))
        if q.statuses:
            cond.append(self._in("t.status", q.statuses, params))
        if scope.contact_ids:
            cond.append(self._in("t.contact_id", scope.contact_ids, params))
        if scope.operator_ids and assignee_only:
            cond.append(self._in("t.assignee_id", scope.operator_ids, params))
        return cond

    def _message_where(self, q: Query, scope: _Scope) -> tuple[str, list[Any]]:
        p = self.p
        params: list[Any] = []
        cond = self._task_conditions(q, scope, params, assignee_only=False)
        if scope.operator_ids:
            a = self._in("m.author_operator_id", scope.operator_ids, params)
            b = self._in("t.assignee_id", scope.operator_ids, params)
            cond.append(f"({a} OR {b})")
        if q.kinds:
            cond.append(self._in("m.kind", q.kinds, params))
        if q.before is not None:
            cond.append(f"m.created_at < {p}")
            params.append(q.before)
        if q.after is not None:
            cond.append(f"m.created_at >= {p}")
            params.append(q.after)
        return "".join(" AND " + c for c in cond), params

    def _task_where(self, q: Query, scope: _Scope) -> tuple[str, list[Any]]:
        p = self.p
        params: list[Any] = []
        cond = self._task_conditions(q, scope, params, assignee_only=True)
        if q.before is not None:
            cond.append(f"t.created_at < {p}")
            params.append(q.before)
        if q.after is not None:
            cond.append(f"t.last_activity_at >= {p}")
            params.append(q.after)
        return "".join(" AND " + c for c in cond), params

    def _contacts(self, terms: tuple[Term, ...], any_of: bool, scope: _Scope) -> list[int]:
        params: list[Any] = []
        where = ""
        if scope.restrict:
            where = (f" AND EXISTS (SELECT 1 FROM task t WHERE t.contact_id = c.id "
                     f"AND t.assignee_id = {self.p})")
            params.append(scope.operator_id)
        return self.backend.contacts(terms, any_of, where, params, SIDE_LIMIT)

    def _jump(self, q: Query, scope: _Scope) -> int | None:
        if q.task_number is None:
            return None
        task = self.store.find_task_by_number(q.task_number)
        if task is None or (scope.restrict and task.assignee_id != scope.operator_id):
            return None
        return int(task.id)

    # ---- building rows -------------------------------------------------------------------
    def _hits(self, pairs: list[tuple[int, int]], q: Query) -> list[SearchHit]:
        if not pairs:
            return []
        ids = [mid for mid, _tid in pairs]
        marks = ", ".join([self.p] * len(ids))
        rows = self.store.db.execute_sql(
            f"SELECT m.id, m.task_id, m.kind, m.text, m.created_at, o.name, c.name "
            f"FROM message m LEFT JOIN operator o ON o.id = m.author_operator_id "
            f"LEFT JOIN contact c ON c.id = m.author_contact_id WHERE m.id IN ({marks})",
            ids).fetchall()
        names: dict[int, list[str]] = {}
        for mid, name in self.store.db.execute_sql(
                f"SELECT message_id, name FROM attachment WHERE message_id IN ({marks}) "
                f"ORDER BY id", ids).fetchall():
            names.setdefault(mid, []).append(name)
        by_id = {r[0]: r for r in rows}
        words = q.highlight_words()
        hits = []
        for mid in ids:
            r = by_id.get(mid)
            if r is None:  # deleted between the two queries
                continue
            text = r[3] or ""
            if mid in names:
                text = (text + "  📎 " if text else "📎 ") + ", ".join(names[mid])
            snippet, ranges = make_snippet(text, words)
            hits.append(SearchHit(task_id=r[1], message_id=mid, snippet=snippet,
                                  highlights=ranges, created_at=from_micros(r[4]), kind=r[2],
                                  author=r[5] or r[6] or ""))
        return hits

    def _task_rows(self, ids: list[int]) -> dict[int, TaskRow]:
        if not ids:
            return {}
        T = self.store.m.Task
        return {t.id: t for t in (self.store._task_from(o) for o in
                                  self.store._task_select().where(T.id.in_(ids)).objects())}

    def _tasks_of(self, contact_ids: list[int], scope: _Scope) -> list[int]:
        if not contact_ids:
            return []
        T = self.store.m.Task
        query = T.select(T.id).where(T.contact.in_(contact_ids))
        if scope.restrict:
            query = query.where(T.assignee == scope.operator_id)
        return [t.id for t in query.order_by(T.last_activity_at.desc()).limit(SIDE_LIMIT)]

    def _contact_rows(self, ids: list[int]) -> list[ContactRow]:
        out = []
        for cid in ids:
            try:
                out.append(self.store.get_contact(cid))
            except Exception:  # merged or deleted meanwhile: just leave it out
                continue
        return out

    def _groups(self, hits: list[SearchHit], task_only: list[int],
                jump: int | None) -> tuple[TaskGroup, ...]:
        order: list[int] = []
        if jump is not None:
            order.append(jump)
        order.extend(h.task_id for h in hits)
        order.extend(task_only)
        order = list(dict.fromkeys(order))
        tasks = self._task_rows(order)
        matched = set(task_only) | ({jump} if jump is not None else set())
        by_task: dict[int, list[SearchHit]] = {}
        for h in hits:
            task = tasks.get(h.task_id)
            number = task.number if task else None
            by_task.setdefault(h.task_id, []).append(
                SearchHit(h.task_id, h.message_id, h.snippet, h.highlights, h.created_at,
                          h.kind, number, h.author))
        return tuple(TaskGroup(tasks[tid], tuple(by_task.get(tid, ())), tid in matched)
                     for tid in order if tid in tasks)


def _phone_terms(phones: tuple[str, ...]) -> tuple[Term, ...]:
    """A phone is found by its digits: the last ten (country code and trunk prefix vary)."""
    return tuple(Term((d[-10:] if len(d) >= 10 else d,)) for d in phones)


def _where(text: str, *needles: str) -> int:
    """Where in the query the problem is (for the caret under it); 0 if not found."""
    for needle in needles:
        found = text.casefold().find(needle.casefold())
        if found >= 0:
            return found
    return 0
