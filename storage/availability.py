"""Operators set themselves available or away; a supervisor may cap their open tasks.

Availability is durable (it survives a restart of the console) and is what
auto-assignment (:mod:`storage.auto_assign`) reads: only available operators receive
new tasks, and never more open tasks than their limit. An operator nobody has marked
yet is away, so installing team mode hands work to no one by surprise.

Every change is audited and published as ``operator.availability`` after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.errors import NotFound, RuleViolation
from storage.i18n import _
from storage.models import utcnow
from storage.team_tables import team_models

if TYPE_CHECKING:
    from storage.store import Store

OPERATOR_AVAILABILITY = "operator.availability"


@dataclass(frozen=True)
class AvailabilityRow:
    operator_id: int
    available: bool
    max_open: int | None  # None: no limit of the operator's own


def set_available(store: Store, operator_id: int, available: bool,
                  by: int | None = None) -> AvailabilityRow:
    """Mark the operator available (takes new work) or away; ``by`` defaults to them."""
    return _update(store, operator_id, by if by is not None else operator_id,
                   available=available)


def set_open_limit(store: Store, operator_id: int, max_open: int | None,
                   by: int | None = None) -> AvailabilityRow:
    """Cap the open tasks auto-assignment gives this operator (None: no cap of their own)."""
    if max_open is not None and max_open < 0:
        raise RuleViolation(_("The limit of open tasks cannot be negative."))
    return _update(store, operator_id, by if by is not None else operator_id, max_open=max_open)


def _update(store: Store, operator_id: int, by: int, **values: object) -> AvailabilityRow:
    A = team_models(store).Availability
    with store.transaction() as tx:
        if store.m.Operator.get_or_none(store.m.Operator.id == operator_id) is None:
            raise NotFound(_("Operator {id} does not exist.").format(id=operator_id))
        row = A.get_or_none(A.operator == operator_id)
        exists = row is not None
        before = (row.available, row.max_open) if exists else (False, None)
        if not exists:
            row = A(operator=operator_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.changed_at = utcnow()
        after = (row.available, row.max_open)
        if after != before:
            row.save(force_insert=not exists)
            store._audit(None, by, "availability", operator=operator_id,
                         available=row.available, max_open=row.max_open)
            tx.emit(OPERATOR_AVAILABILITY, operator_id=operator_id, available=row.available,
                    max_open=row.max_open)
        return AvailabilityRow(operator_id, bool(row.available), row.max_open)


def availability(store: Store) -> dict[int, AvailabilityRow]:
    """Every operator's availability (operators never marked are away, without a limit)."""
    A = team_models(store).Availability
    marked = {r.operator_id: AvailabilityRow(r.operator_id, bool(r.available), r.max_open)
              for r in A.select()}
    return {op.id: marked.get(op.id, AvailabilityRow(op.id, False, None))
            for op in store.list_operators()}


def is_available(store: Store, operator_id: int) -> bool:
    A = team_models(store).Availability
    row = A.get_or_none(A.operator == operator_id)
    return bool(row and row.available)
