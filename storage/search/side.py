"""The rest of a results page in one statement: matching tasks and contacts, full rows.

Besides message hits a page shows the tasks whose number, title or data matched (at
most 20, newest first) and the matching contacts (at most 20 per way of matching, by
rank) with each one's newest task the searcher may see. Reading those took up to five
statements (task ids, contact ids, contact rows, their newest tasks, the task rows);
here each is a *branch* — an inner query a backend writes (its match, its filters,
its order and limit) joined to the rows it names — and the branches are one
``UNION ALL``. Every branch fills its own columns of the same row layout:

    branch, key, TASK_SELECT (11 columns), CONTACT_SELECT (6), the newest task id

Branch 0 holds tasks (ordered by id, newest first); branches 1… contacts in the order
the search asks them (a phone's contacts, then a phone-looking word's, then the
words'), each ordered by ``key`` (rank, or position for known ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.rows import ContactRow
from storage.search.hitsql import (
    CONTACT_SELECT,
    TASK_SELECT,
    TASK_WIDTH,
    contact_row,
    search_task,
)
from storage.search.rows import SearchTask

_NO_TASK = ", ".join(["NULL"] * TASK_WIDTH)
_NO_CONTACT = ", ".join(["NULL"] * 7)
CONTACT_AT = 2 + TASK_WIDTH


@dataclass
class Side:
    """The branches of one side statement, in order, and their parameters."""

    branches: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    contact_branches: int = 0

    def tasks(self, inner: str, params: Sequence[Any]) -> None:
        """Tasks whose ids ``inner`` yields (as ``id``)."""
        self.branches.append(f"SELECT 0, CAST(NULL AS DOUBLE PRECISION), {TASK_SELECT}, "
                             f"{_NO_CONTACT} FROM ({inner}) x JOIN task t ON t.id = x.id")
        self.params.extend(params)

    def contacts(self, inner: str, params: Sequence[Any], latest: str,
                 latest_params: Sequence[Any]) -> None:
        """Contacts whose ids ``inner`` yields (as ``id``, with their order as ``k``), each
        with its newest task passing ``latest`` (a condition on ``task t``)."""
        self.contact_branches += 1
        self.branches.append(
            f"SELECT {self.contact_branches}, CAST(x.k AS DOUBLE PRECISION), {_NO_TASK}, "
            f"{CONTACT_SELECT}, (SELECT max(t.id) FROM task t WHERE t.contact_id = c.id{latest}) "
            f"FROM ({inner}) x JOIN contact c ON c.id = x.id")
        self.params.extend(latest_params)
        self.params.extend(params)

    def sql(self) -> str:
        return " UNION ALL ".join(self.branches)


def side_rows(rows: list[Sequence[Any]], tie_by_id: bool
              ) -> tuple[list[SearchTask], list[tuple[ContactRow, int | None]]]:
    """Tasks (newest first) and contacts with their newest task (branch, then key order;
    a contact found twice is kept once, first), from a side statement's rows.

    Rows of one branch arrive in its inner query's order on SQLite (kept for equal
    keys); ``tie_by_id``: equal keys are ordered by id (PostgreSQL's inner order)."""
    tasks = sorted((search_task(r, 2) for r in rows if r[0] == 0), key=lambda t: -t.id)
    found = [r for r in rows if r[0] != 0]
    found.sort(key=(lambda r: (r[0], r[1], r[CONTACT_AT])) if tie_by_id else
               (lambda r: (r[0], r[1])))
    contacts: list[tuple[ContactRow, int | None]] = []
    seen: set[int] = set()
    for r in found:
        if r[CONTACT_AT] not in seen:
            seen.add(r[CONTACT_AT])
            latest = r[CONTACT_AT + 6]
            contacts.append((contact_row(r, CONTACT_AT),
                             int(latest) if latest is not None else None))
    return tasks, contacts
