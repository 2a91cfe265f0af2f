"""peewee objects → frozen rows. The only place that knows both shapes."""

from __future__ import annotations

from typing import Any

from storage.rows import (
    AttachmentRow,
    AuditRow,
    ChannelRow,
    ContactRow,
    DraftRow,
    IdentityRow,
    MessageRow,
    OperatorRow,
    QuickReplyRow,
    TaskRow,
)


def operator_row(o: Any) -> OperatorRow:
    return OperatorRow(id=o.id, name=o.name, role=o.role)


def channel_row(c: Any) -> ChannelRow:
    return ChannelRow(id=c.id, kind=c.kind, name=c.name, settings=dict(c.settings or {}),
                      enabled=c.enabled)


def contact_row(c: Any) -> ContactRow:
    return ContactRow(id=c.id, name=c.name, phones=tuple(c.phones or ()),
                      emails=tuple(c.emails or ()), merged_into_id=c.merged_into_id,
                      created_at=c.created_at)


def identity_row(i: Any, channel: Any) -> IdentityRow:
    return IdentityRow(id=i.id, channel_id=channel.id, channel_kind=channel.kind,
                       channel_name=channel.name, external_id=i.external_id,
                       display_name=i.display_name, username=i.username, phone=i.phone)


def task_row(t: Any, contact_name: str | None, channel_kind: str | None,
             channel_name: str | None, assignee_name: str | None) -> TaskRow:
    return TaskRow(
        id=t.id, number=t.number or t.id, title=t.title, status=t.status,
        contact_id=t.contact_id, contact_name=contact_name or "",
        channel_id=t.channel_id, channel_kind=channel_kind or "", channel_name=channel_name or "",
        chat_id=t.chat_id, assignee_id=t.assignee_id, assignee_name=assignee_name or "",
        description=t.description, additional_data=dict(t.additional_data or {}),
        previous_task_id=t.previous_task_id, merged_into_id=t.merged_into_id,
        created_at=t.created_at, last_activity_at=t.last_activity_at,
        last_client_message_at=t.last_client_message_at, first_reply_at=t.first_reply_at,
        unread_count=t.unread_count, last_preview=t.last_preview, last_kind=t.last_kind,
        snoozed_until=t.snoozed_until, snooze_until_client=bool(t.snooze_until_client),
    )


def attachment_row(a: Any) -> AttachmentRow:
    return AttachmentRow(id=a.id, name=a.name, mime=a.mime, size=a.size, location=a.location)


def message_row(m: Any, operator_name: str | None,
                attachments: tuple[AttachmentRow, ...] = ()) -> MessageRow:
    return MessageRow(
        id=m.id, task_id=m.task_id, kind=m.kind, text=m.text, created_at=m.created_at,
        author_operator_id=m.author_operator_id, author_operator_name=operator_name or "",
        author_contact_id=m.author_contact_id, channel_id=m.channel_id,
        external_id=m.external_id, delivery_state=m.delivery_state,
        failure_reason=m.failure_reason, attempts=m.attempts, edited=m.edited,
        moved_from_task_id=m.moved_from_id, meta=dict(m.meta or {}), attachments=attachments,
        chat_id=m.chat_id,
    )


def quick_reply_row(q: Any) -> QuickReplyRow:
    return QuickReplyRow(id=q.id, title=q.title, text=q.text, language=q.language,
                         tags=tuple(t for t in (q.tags or "").split() if t))


def audit_row(a: Any) -> AuditRow:
    return AuditRow(id=a.id, task_id=a.task_id, operator_id=a.operator_id, action=a.action,
                    detail=dict(a.detail or {}), at=a.at)


def draft_row(d: Any) -> DraftRow:
    return DraftRow(task_id=d.task_id, operator_id=d.operator_id, text=d.text,
                    private=d.private, updated_at=d.updated_at)
