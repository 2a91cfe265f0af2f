"""Plain frozen rows: what storage reads return. The UI never holds peewee objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class OperatorRow:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class ChannelRow:
    id: int
    kind: str
    name: str
    settings: dict[str, Any]
    enabled: bool


@dataclass(frozen=True)
class IdentityRow:
    id: int
    channel_id: int
    channel_kind: str
    channel_name: str
    external_id: str
    display_name: str
    username: str
    phone: str


@dataclass(frozen=True)
class ContactRow:
    id: int
    name: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    merged_into_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class TaskRow:
    id: int
    number: int
    title: str
    status: str
    contact_id: int | None
    contact_name: str
    channel_id: int | None
    channel_kind: str
    channel_name: str
    chat_id: str | None
    assignee_id: int | None
    assignee_name: str
    description: str
    additional_data: dict[str, Any]
    previous_task_id: int | None
    merged_into_id: int | None
    created_at: datetime
    last_activity_at: datetime
    last_client_message_at: datetime | None
    first_reply_at: datetime | None
    unread_count: int
    last_preview: str
    last_kind: str
    # Snooze: hidden from the lists while ``snoozed_until`` is ahead, or (no time) until
    # the client writes; see :meth:`snoozed`.
    snoozed_until: datetime | None = None
    snooze_until_client: bool = False

    @property
    def active(self) -> bool:
        from storage.constants import INACTIVE_STATUSES

        return self.status not in INACTIVE_STATUSES

    def snoozed(self, now: datetime | None = None) -> bool:
        """Whether the task is snoozed at ``now`` (default: the current time)."""
        if self.snoozed_until is not None:
            from storage.timestamps import utcnow

            return self.snoozed_until > (now or utcnow())
        return self.snooze_until_client


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    name: str
    mime: str
    size: int
    location: str


@dataclass(frozen=True)
class MessageRow:
    id: int
    task_id: int
    kind: str
    text: str
    created_at: datetime
    author_operator_id: int | None
    author_operator_name: str
    author_contact_id: int | None
    channel_id: int | None
    external_id: str | None
    delivery_state: str | None
    failure_reason: str
    attempts: int
    edited: bool
    moved_from_task_id: int | None
    meta: dict[str, Any]
    attachments: tuple[AttachmentRow, ...] = ()
    # The address recorded when the message was written (inbound: the chat it came
    # from; outbound: the chat it goes to), whatever task it sits in now.
    chat_id: str | None = None

    # What the meta says (issue 19): quote-reply, edits and deletions, scheduled send.
    @property
    def quote_message_id(self) -> int | None:
        """The client message this reply quotes (our id), if any."""
        value = self.meta.get("quote_message_id")
        return int(value) if value is not None else None

    @property
    def quote_text(self) -> str:
        """A short excerpt of the quoted client message ("" when none)."""
        return str(self.meta.get("quote_text") or "")

    @property
    def reply_to_message_id(self) -> int | None:
        """The message a client's message answers (our id), when the channel said so and
        we know that message."""
        value = self.meta.get("reply_to_message_id")
        return int(value) if value is not None else None

    @property
    def deleted(self) -> bool:
        """The client deleted this message in the channel (its text stays for the team)."""
        return bool(self.meta.get("deleted"))

    @property
    def versions(self) -> tuple[dict[str, str], ...]:
        """Earlier texts of an edited client message, oldest first: ``{"text", "at"}``
        (``at``: ISO time from which that text stood)."""
        return tuple(self.meta.get("versions") or ())

    @property
    def scheduled_at(self) -> datetime | None:
        """When a scheduled reply is (or was) due to go out; None for a plain reply."""
        value = self.meta.get("scheduled_at")
        return datetime.fromisoformat(value) if value else None

    @property
    def cancelled(self) -> bool:
        """A scheduled reply the operator cancelled (delivery state ``failed``)."""
        return bool(self.meta.get("cancelled"))

    @property
    def cursor(self) -> tuple[int, int]:
        """The keyset position of this message in its thread."""
        from storage.timestamps import to_micros

        return (to_micros(self.created_at), self.id)


@dataclass(frozen=True)
class OutboxItem:
    """One message to deliver, addressed from the message itself (never from its task)."""

    message_id: int
    task_id: int
    channel_id: int
    channel_kind: str
    chat_id: str
    text: str
    attempts: int
    meta: dict
    attachments: tuple


@dataclass(frozen=True)
class MergeCheck:
    """What merging these tasks means: ``description`` names every task, client and channel."""

    different_clients: bool
    description: str


@dataclass(frozen=True)
class DraftRow:
    """An operator's unsent text in a task."""

    task_id: int
    operator_id: int
    text: str
    private: bool
    updated_at: datetime


@dataclass(frozen=True)
class QuickReplyRow:
    id: int
    title: str
    text: str
    language: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class AuditRow:
    id: int
    task_id: int | None
    operator_id: int | None
    action: str
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class ContactCard:
    """Everything the contact card shows: the contact, every identity, every task."""

    contact: ContactRow
    identities: tuple[IdentityRow, ...]
    tasks: tuple[TaskRow, ...]
    absorbed: tuple[ContactRow, ...] = ()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page. ``next_cursor`` is None when there is nothing further."""

    items: tuple[T, ...]
    next_cursor: tuple[int, int] | None = None


@dataclass(frozen=True)
class IngestResult:
    message: MessageRow
    task: TaskRow
    contact_id: int
    created_contact: bool
    created_task: bool
    duplicate: bool


@dataclass(frozen=True)
class OperatorLoad:
    operator_id: int | None
    operator_name: str
    open_tasks: int


@dataclass(frozen=True)
class SupervisorSummary:
    load: tuple[OperatorLoad, ...]
    awaiting_first_reply: int
    oldest_wait_seconds: float | None
    waiting_tasks: tuple[TaskRow, ...] = field(default_factory=tuple)
