"""One search API over both backends: parse, resolve names, query, build rows.

``Searcher(store).search("inv 447 from:client")`` → :class:`SearchResults`. It runs
synchronously like every storage read (the console calls it from a thread worker).

Costs are bounded by construction: message hits are capped (``limit`` ≤ 200), task
and contact matches at 20 each, and relevance ranking is used only when the words
match at most ``RANK_CAP`` messages — beyond that (or when their newest matches are
so dense that they must match more than twice as many) newest-first is returned
(ranking every hit of a common word is what is slow, anchors.md) and ``ranked`` says
so. A page is two statements in the common case: the hits with their tasks
(:mod:`storage.search.hitsql`), and the matching tasks and contacts with their rows
(:mod:`storage.search.side`); a ranked search adds its scored pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from storage.i18n import _
from storage.rows import ContactRow
from storage.search.hitsql import build_hits, search_task
from storage.search.postgres_fts import PostgresBackend
from storage.search.query import Query, QueryError, Term, parse_query
from storage.search.rows import SearchHit, SearchResults, SearchTask, TaskGroup
from storage.search.side import Side, side_rows
from storage.search.sqlite_fts import SqliteBackend

RANK_CAP = 500
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
        rows: list[tuple[Any, ...]] = []
        if q.terms and scope.contact_ids != ():
            where, params = self._message_where(q, scope)
            rows, ranked = self.backend.hits(q, where, params, ranked, limit + 1, RANK_CAP)
        elif q.excluded or q.has_filters:
            ranked = False
            if scope.contact_ids != ():
                where, params = self._message_where(q, scope)
                rows = self.backend.scan(q, where, params, limit + 1)
        capped = len(rows) > limit
        hits, tasks = build_hits(rows[:limit], q)
        task_rows, found = self._side(q, scope, phone_contacts)
        tasks.update((t.id, t) for t in task_rows)
        task_only = [t.id for t in task_rows]
        jump = self._jump(q, scope)
        if q.phones and not q.terms:
            task_only += self._tasks_of(phone_contacts, scope)
        groups = self._groups(hits, tasks, task_only, jump)
        return SearchResults(query=q.text, hits=tuple(hits), groups=groups,
                             contacts=tuple(c for c, _latest in found),
                             contact_task_ids=tuple(latest for _c, latest in found),
                             jump_task_id=jump, ranked=ranked and bool(q.terms), capped=capped)

    def _side(self, q: Query, scope: _Scope, phone_contacts: list[int]
              ) -> tuple[list[SearchTask], list[tuple[ContactRow, int | None]]]:
        """Tasks matched by number, title or data, and contacts (a phone's, a phone-looking
        word's, the words'), each with its newest visible task: one statement."""
        side = Side()
        if q.terms and not q.kinds:
            where, params = self._task_where(q, scope)
            self.backend.task_branch(side, q, where, params, SIDE_LIMIT)
        latest: str = ""
        latest_params: list[Any] = []  # the newest task a contact shows: one they may see
        if scope.restrict:
            latest, latest_params = f" AND t.assignee_id = {self.p}", [scope.operator_id]
        if phone_contacts:
            self.backend.known_contacts(side, phone_contacts, latest, latest_params)
        where, params = self._contact_where(scope)
        if q.phone_words and not q.has_filters:  # "89161234567": a word and maybe a phone
            self.backend.contact_branch(side, _phone_terms(q.phone_words), True, where, params,
                                        SIDE_LIMIT, latest, latest_params)
        if q.terms and not q.has_filters and not q.phones:
            self.backend.contact_branch(side, q.terms, False, where, params, SIDE_LIMIT,
                                        latest, latest_params)
        if not side.branches:
            return [], []
        rows = self.store.db.execute_sql(side.sql(), side.params).fetchall()
        return side_rows(rows, self.backend.tie_by_id)

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

    def _contact_where(self, scope: _Scope) -> tuple[str, list[Any]]:
        """The condition on ``contact c`` a searcher's contacts pass (one of their tasks)."""
        if not scope.restrict:
            return "", []
        return (f" AND EXISTS (SELECT 1 FROM task t WHERE t.contact_id = c.id "
                f"AND t.assignee_id = {self.p})", [scope.operator_id])

    def _contacts(self, terms: tuple[Term, ...], any_of: bool, scope: _Scope) -> list[int]:
        where, params = self._contact_where(scope)
        return self.backend.contacts(terms, any_of, where, params, SIDE_LIMIT)

    def _jump(self, q: Query, scope: _Scope) -> int | None:
        if q.task_number is None:
            return None
        rows = self.store.db.execute_sql(
            f"SELECT id, assignee_id FROM task WHERE number = {self.p}", [q.task_number]
        ).fetchall()
        if not rows or (scope.restrict and rows[0][1] != scope.operator_id):
            return None
        return int(rows[0][0])

    # ---- building rows (plain SQL and tuples: see storage.search.hitsql) ---------------
    def _tasks_of(self, contact_ids: list[int], scope: _Scope) -> list[int]:
        if not contact_ids:
            return []
        params: list[Any] = []
        cond = self._contacts_tasks(contact_ids, scope, params)
        rows = self.store.db.execute_sql(
            f"SELECT t.id FROM task t WHERE {cond} ORDER BY t.last_activity_at DESC "
            f"LIMIT {SIDE_LIMIT}", params).fetchall()
        return [r[0] for r in rows]

    def _contacts_tasks(self, contact_ids: list[int], scope: _Scope, params: list[Any]) -> str:
        """The condition on ``task t``: one of these contacts' tasks the searcher may see."""
        cond = self._in("t.contact_id", tuple(contact_ids), params)
        if scope.restrict:
            cond += f" AND t.assignee_id = {self.p}"
            params.append(scope.operator_id)
        return cond

    def _groups(self, hits: list[SearchHit], tasks: dict[int, SearchTask], task_only: list[int],
                jump: int | None) -> tuple[TaskGroup, ...]:
        """Hits grouped under their tasks, in result order; the jump task first, then
        tasks matched by title or data (their rows came with the side statement; a jump
        task's or a phone's tasks' are read only if nothing else brought them)."""
        order: list[int] = []
        if jump is not None:
            order.append(jump)
        order.extend(h.task_id for h in hits)
        order.extend(task_only)
        order = list(dict.fromkeys(order))
        missing = [tid for tid in order if tid not in tasks]
        if missing:
            tasks = {**tasks, **{r[0]: search_task(r) for r in self.backend.task_rows(missing)}}
        matched = set(task_only) | ({jump} if jump is not None else set())
        by_task: dict[int, list[SearchHit]] = {}
        for h in hits:
            by_task.setdefault(h.task_id, []).append(h)
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
