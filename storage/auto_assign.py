"""Optional auto-assignment: new tasks of a channel go round robin to available operators.

A channel opts in with the channel setting ``auto_assign: true`` (config file,
``channels[].settings``); ``auto_assign_limit: N`` caps every operator's open tasks
for it, and an operator's own limit (:func:`storage.availability.set_open_limit`)
overrides that cap. Only operators marked available (:mod:`storage.availability`)
receive tasks. The round robin remembers, per channel, the last operator it chose
(key-value state ``auto_assign.last.<channel id>``) and continues with the next one
by id who is under their limit.

:func:`auto_assign` assigns with the same conditional UPDATE as a take
(:mod:`storage.taking`): it never overrides an operator who took the task first, and
two ``serve`` processes handling the same ``task.created`` assign it once. On
PostgreSQL the candidates' availability rows are locked for the transaction, so two
processes counting open tasks at once cannot both fill an operator's last slot.

:class:`AutoAssigner` runs it from the event bus, off the committing thread: the
``serve`` process starts one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import peewee as pw

from storage import events as ev
from storage.availability import OPERATOR_AVAILABILITY
from storage.i18n import _
from storage.models import IN_PROGRESS, INACTIVE_STATUSES, NEW
from storage.team_tables import team_models

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger(__name__)

ENABLED_SETTING = "auto_assign"
LIMIT_SETTING = "auto_assign_limit"


def pointer_key(channel_id: int) -> str:
    return f"auto_assign.last.{channel_id}"


def channel_auto_assigns(settings: dict[str, Any]) -> bool:
    return settings.get(ENABLED_SETTING) is True


def auto_assign(store: Store, task_id: int) -> int | None:
    """Give the unassigned task to the next available operator under their limit.

    Returns the operator's id, or None when the channel does not auto-assign, the task
    is already someone's (or closed), or every available operator is at their limit.
    """
    m = store.m
    T = m.Task
    team = team_models(store)
    A = team.Availability
    task = T.get_or_none(T.id == task_id)
    if task is None or task.assignee_id is not None or task.channel_id is None:
        return None
    settings = dict(m.Channel.get_by_id(task.channel_id).settings or {})
    if not channel_auto_assigns(settings):
        return None
    channel_limit = settings.get(LIMIT_SETTING)
    channel_limit = channel_limit if isinstance(channel_limit, int) else None
    with store.transaction() as tx:
        candidates = A.select().where(A.available == True).order_by(A.operator)  # noqa: E712
        if store.postgres:
            candidates = candidates.for_update()
        caps = {row.operator_id: row.max_open if row.max_open is not None else channel_limit
                for row in candidates}
        if not caps:
            return None
        load = dict(T.select(T.assignee, pw.fn.COUNT(T.id))
                    .where(T.assignee.in_(list(caps)) & T.status.not_in(INACTIVE_STATUSES))
                    .group_by(T.assignee).tuples())
        eligible = [op for op, cap in caps.items() if cap is None or load.get(op, 0) < cap]
        if not eligible:
            return None
        kv = m.KeyValue
        key = pointer_key(task.channel_id)
        last_row = kv.get_or_none(kv.key == key)
        last = int(last_row.value) if last_row is not None else 0
        pick = next((op for op in eligible if op > last), eligible[0])
        status = pw.Case(None, [(T.status == NEW, IN_PROGRESS)], T.status)
        done = (T.update(assignee=pick, status=status)
                .where((T.id == task_id) & T.assignee.is_null() & T.merged_into.is_null()
                       & T.status.not_in(INACTIVE_STATUSES))
                .execute())
        if not done:
            return None
        kv.insert(key=key, value=str(pick)).on_conflict(
            conflict_target=[kv.key], update={kv.value: str(pick)}).execute()
        name = m.Operator.get_by_id(pick).name
        task = T.get_by_id(task_id)
        store._system_event(tx, task, "assigned", _("Assigned to {name}.").format(name=name),
                            operator=pick, auto=True)
        store._audit(task_id, None, "auto_assigned", to=pick)
        tx.emit(ev.TASK_UPDATED, task_id=task_id, assignee=pick)
    return pick


def assign_backlog(store: Store) -> int:
    """Auto-assign the unassigned open tasks of auto-assigning channels, oldest first,
    until no one has room; returns how many were assigned (an operator came back)."""
    m = store.m
    T = m.Task
    channels = [c.id for c in m.Channel.select() if channel_auto_assigns(dict(c.settings or {}))]
    if not channels:
        return 0
    count = 0
    for channel_id in channels:  # limits differ per channel: one full channel stops only itself
        waiting = (T.select(T.id).where((T.channel == channel_id) & T.assignee.is_null()
                                        & T.merged_into.is_null()
                                        & T.status.not_in(INACTIVE_STATUSES))
                   .order_by(T.created_at, T.id).tuples())
        for (task_id,) in list(waiting):
            if auto_assign(store, task_id) is None:
                break
            count += 1
    return count


class AutoAssigner:
    """Runs :func:`auto_assign` for every ``task.created`` event, and the backlog when an
    operator becomes available, on its own thread (subscribers must return quickly)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="auto-assign", daemon=True)
        self._thread.start()
        self._unsubscribe = self.store.bus.subscribe(self._on_event)
        self._jobs.put(lambda: assign_backlog(self.store))

    def _on_event(self, event: ev.Event) -> None:
        if event.kind == ev.TASK_CREATED and event.task_id is not None:
            task_id = event.task_id
            self._jobs.put(lambda: auto_assign(self.store, task_id))
        elif event.kind == OPERATOR_AVAILABILITY and event.data.get("available"):
            self._jobs.put(lambda: assign_backlog(self.store))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:
                log.exception("auto-assignment failed")
            finally:
                self._jobs.task_done()

    def join(self) -> None:
        """Wait until every job queued so far has run (for tests and shutdown)."""
        self._jobs.join()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)
            self._thread = None
