"""Drafts: each operator's unsent text, kept per task (``store.drafts``).

A draft belongs to one task and one operator, so text typed for one client can never
turn up in another client's composer; it is stored, so it survives a restart. Saving
blank text deletes it. Sending a reply or a note clears the sender's draft of that task
in the same transaction (:mod:`storage.replies`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.convert import draft_row
from storage.errors import NotFound
from storage.i18n import _
from storage.models import utcnow
from storage.rows import DraftRow
from storage.text import storable

if TYPE_CHECKING:
    from storage.core import StoreCore


class Drafts:
    def __init__(self, store: StoreCore) -> None:
        self.store = store

    def save(self, task_id: int, operator_id: int, text: str, private: bool = False) -> None:
        """Keep ``text`` as the operator's draft of the task (blank text deletes it)."""
        if not text.strip():
            self.clear(task_id, operator_id)
            return
        m = self.store.m
        D = m.Draft
        with self.store.transaction():
            if not m.Task.select().where(m.Task.id == task_id).exists():
                raise NotFound(_("Task {id} does not exist.").format(id=task_id))
            if not m.Operator.select().where(m.Operator.id == operator_id).exists():
                raise NotFound(_("Operator {id} does not exist.").format(id=operator_id))
            clean, now = storable(text), utcnow()
            D.insert(task=task_id, operator=operator_id, text=clean, private=bool(private),
                     updated_at=now).on_conflict(  # an upsert both backends accept
                conflict_target=[D.task, D.operator],
                update={D.text: clean, D.private: bool(private), D.updated_at: now}).execute()

    def get(self, task_id: int, operator_id: int) -> DraftRow | None:
        D = self.store.m.Draft
        found = D.get_or_none((D.task == task_id) & (D.operator == operator_id))
        return draft_row(found) if found is not None else None

    def clear(self, task_id: int, operator_id: int) -> None:
        D = self.store.m.Draft
        with self.store.transaction():
            D.delete().where((D.task == task_id) & (D.operator == operator_id)).execute()

    def task_ids(self, operator_id: int) -> frozenset[int]:
        """The tasks where this operator has a draft (for the task list's marker)."""
        D = self.store.m.Draft
        return frozenset(r.task_id for r in D.select(D.task).where(D.operator == operator_id))
