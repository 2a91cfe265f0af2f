"""What a search returns: plain frozen rows, like every other storage read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.rows import ContactRow


@dataclass(frozen=True)
class SearchTask:
    """What a result shows of a task: its header (number, title, status, contact) and
    the channel and assignee ``switchboard search --json`` prints — the fields of the
    store's TaskRow that a result uses, with the same values, and nothing else (reading
    and converting the rest cost a third of a search's Python time)."""

    id: int
    number: int
    title: str
    status: str
    contact_id: int | None
    contact_name: str
    channel_id: int | None
    channel_kind: str
    channel_name: str
    assignee_id: int | None
    assignee_name: str


@dataclass(frozen=True)
class SearchHit:
    """One place to jump to: a message in a task (``message_id`` None: the task itself).

    ``snippet`` is plain client text (never markup) cut around the match, with
    newlines flattened to spaces; ``highlights`` are ``(start, end)`` character
    ranges of matched words inside ``snippet``.
    """

    task_id: int
    message_id: int | None = None
    snippet: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    created_at: datetime | None = None
    kind: str = ""
    task_number: int | None = None
    author: str = ""


@dataclass(frozen=True)
class TaskGroup:
    """A task and its hits, in result order. ``task_matched``: its title/number/data matched."""

    task: SearchTask
    hits: tuple[SearchHit, ...]
    task_matched: bool = False


@dataclass(frozen=True)
class SearchResults:
    """Hits (flat, in order), the same grouped by task, and matching contacts.

    ``ranked`` is False when the query matched too many messages to rank them all
    and newest-first was used instead; ``capped`` when more hits exist than were
    returned; ``jump_task_id`` is the task a ``#123`` query names, if visible.
    """

    query: str
    hits: tuple[SearchHit, ...] = ()
    groups: tuple[TaskGroup, ...] = ()
    contacts: tuple[ContactRow, ...] = ()
    jump_task_id: int | None = None
    ranked: bool = True
    contact_task_ids: tuple[int | None, ...] = ()  # per contact: its latest visible task
    capped: bool = False

    @property
    def tasks(self) -> tuple[TaskGroup, ...]:
        return self.groups

    @property
    def empty(self) -> bool:
        return not self.groups and not self.contacts
