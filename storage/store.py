"""The store: the core (:mod:`storage.core`) with its services, and one typed facade.

Each concern is a service object over the core, one module each, found by file name:

=====================  ===========================  =====================================
attribute              module                       what
=====================  ===========================  =====================================
``store.reads``        ``storage/reading.py``       task lists, threads, conversations,
                                                    contacts, channels, operators, audit
``store.triage``       ``storage/triage.py``        next task needing an answer, unread
``store.ingesting``    ``storage/ingesting.py``     inbound messages, edits, deletions
``store.replies``      ``storage/replies.py``       replies, notes, retry, write first
``store.outbox``       ``storage/outbox_queue.py``  claim, sent / delivered / failed
``store.merging``      ``storage/merging.py``       merge contacts, merge tasks
``store.tasks``        ``storage/task_admin.py``    assign, status, read, edit; operators,
                                                    channels
``store.scheduling``   ``storage/scheduling.py``    scheduled replies, snoozes, waiting
``store.quick_replies`` ``storage/quick_replies.py`` the quick replies library
``store.drafts``       ``storage/drafts.py``        operators' unsent text
``store.state``        ``storage/durable_state.py`` small durable values by key
=====================  ===========================  =====================================

The methods below keep the store's public API: each is one line handing the call to its
service, with the same signature. New code may call either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from storage.channel_policy import ChannelPolicy
from storage.core import StoreCore, Tx
from storage.database import Progress, open_database
from storage.database_url import is_postgres
from storage.events import EventBus
from storage.inputs import AttachmentIn, Inbound, TaskFilter
from storage.reading import Cursor
from storage.rows import (
    AuditRow,
    ChannelRow,
    ContactCard,
    ContactRow,
    IngestResult,
    MergeCheck,
    MessageRow,
    OperatorRow,
    OutboxItem,
    Page,
    QuickReplyRow,
    SupervisorSummary,
    TaskRow,
)


class Store(StoreCore):
    @classmethod
    def open(
        cls,
        url: str | None = None,
        bus: EventBus | None = None,
        progress: Progress | None = None,
        policies: Mapping[str, ChannelPolicy] | None = None,
    ) -> Store:
        """Open (and create or migrate) the database at ``url``; None: the default SQLite file.

        ``policies`` are the channel rules by kind (``connectors.registry.policies()``)."""
        return cls(open_database(url), bus, progress, policies)

    # ---- reads: storage/reading.py ----
    def list_tasks(
        self, f: TaskFilter | None = None, after: Cursor | None = None, limit: int = 50
    ) -> Page[TaskRow]:
        return self.reads.list_tasks(f, after, limit)

    def count_tasks(self, f: TaskFilter | None = None) -> int:
        return self.reads.count_tasks(f)

    def launch_statements(self) -> tuple[str, str]:
        return self.reads.launch_statements()

    def get_task(self, task_id: int) -> TaskRow:
        return self.reads.get_task(task_id)

    def get_tasks(self, ids: list[int]) -> dict[int, TaskRow]:
        return self.reads.get_tasks(ids)

    def chat_task_id(self, channel_id: int, chat_id: str) -> int | None:
        return self.reads.chat_task_id(channel_id, chat_id)

    def find_task_by_number(self, number: int) -> TaskRow | None:
        return self.reads.find_task_by_number(number)

    def thread_before(
        self, task_id: int, before: Cursor | None = None, limit: int = 100
    ) -> Page[MessageRow]:
        return self.reads.thread_before(task_id, before, limit)

    def thread_after(self, task_id: int, after: Cursor, limit: int = 100) -> Page[MessageRow]:
        return self.reads.thread_after(task_id, after, limit)

    def thread_around(
        self, task_id: int, message_id: int, limit: int = 100
    ) -> tuple[Page[MessageRow], Page[MessageRow]]:
        return self.reads.thread_around(task_id, message_id, limit)

    def conversation_page(
        self, channel_id: int, chat_id: str, before: Cursor | None = None, limit: int = 50
    ) -> Page[MessageRow]:
        return self.reads.conversation_page(channel_id, chat_id, before, limit)

    def conversation_after(
        self, channel_id: int, chat_id: str, after: Cursor, limit: int = 200
    ) -> Page[MessageRow]:
        return self.reads.conversation_after(channel_id, chat_id, after, limit)

    def thread_count(self, task_id: int) -> int:
        return self.reads.thread_count(task_id)

    def get_message(self, message_id: int) -> MessageRow:
        return self.reads.get_message(message_id)

    def get_messages(self, ids: list[int]) -> dict[int, MessageRow]:
        return self.reads.get_messages(ids)

    def find_message(self, channel_id: int, external_id: str) -> MessageRow | None:
        return self.reads.find_message(channel_id, external_id)

    def get_contact(self, contact_id: int) -> ContactRow:
        return self.reads.get_contact(contact_id)

    def contact_card(self, contact_id: int) -> ContactCard:
        return self.reads.contact_card(contact_id)

    def find_contacts(self, text: str, limit: int = 20) -> list[ContactRow]:
        return self.reads.find_contacts(text, limit)

    def list_channels(self) -> list[ChannelRow]:
        return self.reads.list_channels()

    def get_channel(self, channel_id: int) -> ChannelRow:
        return self.reads.get_channel(channel_id)

    def channel_by_name(self, name: str) -> ChannelRow:
        return self.reads.channel_by_name(name)

    def list_operators(self) -> list[OperatorRow]:
        return self.reads.list_operators()

    def get_operator(self, operator_id: int) -> OperatorRow:
        return self.reads.get_operator(operator_id)

    def operator_by_name(self, name: str) -> OperatorRow | None:
        return self.reads.operator_by_name(name)

    def audit_for(self, task_id: int) -> list[AuditRow]:
        return self.reads.audit_for(task_id)

    def supervisor_summary(self, waiting_limit: int = 10) -> SupervisorSummary:
        return self.reads.supervisor_summary(waiting_limit)

    # ---- triage: storage/triage.py ----
    def next_task_needing_answer(
        self, f: TaskFilter | None = None, after_task_id: int | None = None
    ) -> TaskRow | None:
        return self.triage.next_task_needing_answer(f, after_task_id)

    def oldest_unread_task(self, f: TaskFilter | None = None) -> TaskRow | None:
        return self.triage.oldest_unread_task(f)

    def unread_total(self, f: TaskFilter | None = None) -> int:
        return self.triage.unread_total(f)

    # ---- ingesting: storage/ingesting.py ----
    def ingest(self, inbound: Inbound) -> IngestResult:
        return self.ingesting.ingest(inbound)

    def ingest_many(self, batch: list[Inbound]) -> list[IngestResult]:
        return self.ingesting.ingest_many(batch)

    def edit_inbound(self, channel_id: int, external_id: str, text: str) -> int | None:
        return self.ingesting.edit_inbound(channel_id, external_id, text)

    def mark_inbound_deleted(self, channel_id: int, external_id: str) -> int | None:
        return self.ingesting.mark_inbound_deleted(channel_id, external_id)

    # ---- replies: storage/replies.py ----
    def reply(
        self,
        task_id: int,
        operator_id: int | None,
        text: str,
        *,
        private: bool = False,
        attachments: tuple[AttachmentIn, ...] = (),
        meta: dict[str, Any] | None = None,
        quote_message_id: int | None = None,
        send_at: datetime | None = None,
    ) -> MessageRow:
        return self.replies.reply(
            task_id,
            operator_id,
            text,
            private=private,
            attachments=attachments,
            meta=meta,
            quote_message_id=quote_message_id,
            send_at=send_at,
        )

    def reply_parts(self, task_id: int, text: str) -> list[str]:
        return self.replies.reply_parts(task_id, text)

    def reply_notice(self, task_id: int, operator_id: int | None) -> str | None:
        return self.replies.reply_notice(task_id, operator_id)

    def note(self, task_id: int, operator_id: int | None, text: str) -> MessageRow:
        return self.replies.note(task_id, operator_id, text)

    def retry(self, message_id: int, operator_id: int | None = None) -> MessageRow:
        return self.replies.retry(message_id, operator_id)

    def write_first_refusal(
        self, contact_id: int, channel_id: int, template: str | None = None
    ) -> str | None:
        return self.replies.write_first_refusal(contact_id, channel_id, template)

    def write_first(
        self,
        contact_id: int,
        channel_id: int,
        operator_id: int | None,
        text: str,
        template: str | None = None,
    ) -> MessageRow:
        return self.replies.write_first(contact_id, channel_id, operator_id, text, template)

    # ---- outbox: storage/outbox_queue.py ----
    def claim_outbox(
        self,
        limit: int = 20,
        now: datetime | None = None,
        channel_ids: tuple[int, ...] | None = None,
    ) -> list[OutboxItem]:
        return self.outbox.claim_outbox(limit, now, channel_ids)

    def next_outbox_due(self) -> datetime | None:
        return self.outbox.next_outbox_due()

    def mark_sent(self, message_id: int, external_id: str | None) -> None:
        return self.outbox.mark_sent(message_id, external_id)

    def mark_delivery(
        self, channel_id: int, external_id: str, state: str, reason: str = ""
    ) -> int | None:
        return self.outbox.mark_delivery(channel_id, external_id, state, reason)

    def mark_failed(self, message_id: int, reason: str) -> None:
        return self.outbox.mark_failed(message_id, reason)

    def schedule_retry(self, message_id: int, at: datetime, reason: str) -> None:
        return self.outbox.schedule_retry(message_id, at, reason)

    def recover_outbox(self) -> int:
        return self.outbox.recover_outbox()

    # ---- merging: storage/merging.py ----
    def merge_contacts(
        self, survivor_id: int, loser_id: int, operator_id: int | None = None
    ) -> ContactCard:
        return self.merging.merge_contacts(survivor_id, loser_id, operator_id)

    def merge_check(self, target_id: int, source_ids: list[int] | int) -> MergeCheck:
        return self.merging.merge_check(target_id, source_ids)

    def merge_tasks(
        self,
        target_id: int,
        source_ids: list[int] | int,
        operator_id: int | None = None,
        *,
        different_clients_ok: bool = False,
    ) -> TaskRow:
        return self.merging.merge_tasks(
            target_id, source_ids, operator_id, different_clients_ok=different_clients_ok
        )

    # ---- tasks: storage/task_admin.py ----
    def ensure_operator(self, name: str, role: str = "operator") -> OperatorRow:
        return self.tasks.ensure_operator(name, role)

    def ensure_channel(
        self, kind: str, name: str, settings: dict[str, Any] | None = None
    ) -> ChannelRow:
        return self.tasks.ensure_channel(kind, name, settings)

    def assign(self, task_ids: list[int], operator_id: int | None, by: int | None = None) -> None:
        return self.tasks.assign(task_ids, operator_id, by)

    def take_over(self, task_id: int, operator_id: int) -> None:
        return self.tasks.take_over(task_id, operator_id)

    def set_status(self, task_ids: list[int], status: str, by: int | None = None) -> None:
        return self.tasks.set_status(task_ids, status, by)

    def mark_read(self, task_id: int) -> None:
        return self.tasks.mark_read(task_id)

    def update_task(self, task_id: int, by: int | None = None, **fields: Any) -> None:
        return self.tasks.update_task(task_id, by, **fields)

    # ---- scheduling: storage/scheduling.py ----
    def scheduled_replies(self, task_id: int | None = None) -> list[MessageRow]:
        return self.scheduling.scheduled_replies(task_id)

    def cancel_scheduled(self, message_id: int, operator_id: int | None) -> MessageRow:
        return self.scheduling.cancel_scheduled(message_id, operator_id)

    def snooze(
        self,
        task_ids: Iterable[int],
        until: datetime | None,
        until_client_writes: bool = False,
        by: int | None = None,
    ) -> None:
        return self.scheduling.snooze(task_ids, until, until_client_writes, by)

    def unsnooze(self, task_ids: Iterable[int], by: int | None = None) -> None:
        return self.scheduling.unsnooze(task_ids, by)

    def next_snooze_end(self) -> datetime | None:
        return self.scheduling.next_snooze_end()

    def end_snoozes(self, now: datetime | None = None) -> list[int]:
        return self.scheduling.end_snoozes(now)

    def mark_waiting(self, message_ids: Iterable[int], reason: str) -> int:
        return self.scheduling.mark_waiting(message_ids, reason)

    def mark_unserved(self, served_channel_ids: Iterable[int]) -> int:
        return self.scheduling.mark_unserved(served_channel_ids)

    # ---- quick_replies: storage/quick_replies.py ----
    def add_quick_reply(
        self, title: str, text: str, language: str = "en", tags: tuple[str, ...] | list[str] = ()
    ) -> QuickReplyRow:
        return self.quick_replies.add_quick_reply(title, text, language, tags)

    def list_quick_replies(self, language: str | None = None) -> list[QuickReplyRow]:
        return self.quick_replies.list_quick_replies(language)

    def search_quick_replies(
        self, query: str, language: str | None = None, limit: int = 50
    ) -> list[QuickReplyRow]:
        return self.quick_replies.search_quick_replies(query, language, limit)

    def expand_quick_reply(
        self, reply_id: int, task_id: int | None, operator_id: int | None
    ) -> str:
        return self.quick_replies.expand_quick_reply(reply_id, task_id, operator_id)

    def template_context(self, task_id: int | None, operator_id: int | None) -> dict[str, str]:
        return self.quick_replies.template_context(task_id, operator_id)

    def export_quick_replies(self) -> str:
        return self.quick_replies.export_quick_replies()

    def import_quick_replies(self, text: str) -> int:
        return self.quick_replies.import_quick_replies(text)

    # ---- state: storage/durable_state.py ----
    def get_state(self, key: str, default: str | None = None) -> str | None:
        return self.state.get_state(key, default)

    def set_state(self, key: str, value: str) -> None:
        return self.state.set_state(key, value)


__all__ = ["Store", "Tx", "is_postgres"]
