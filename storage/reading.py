"""Reads. Every list is a keyset page; every result is a frozen row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import peewee as pw

from storage.constants import CLOSED_STATUSES
from storage.convert import (
    attachment_row,
    audit_row,
    channel_row,
    contact_row,
    identity_row,
    message_row,
    operator_row,
    task_row,
)
from storage.errors import NotFound
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.models import (
    INACTIVE_STATUSES,
    INBOUND,
    OUTBOUND,
    Models,
    from_micros,
    to_micros,
    utcnow,
)
from storage.rows import (
    AuditRow,
    ChannelRow,
    ContactCard,
    ContactRow,
    MessageRow,
    OperatorLoad,
    OperatorRow,
    Page,
    SupervisorSummary,
    TaskRow,
)
from storage.text import fold

Cursor = tuple[int, int]

if TYPE_CHECKING:
    from storage.core import StoreCore


class Reads:
    """Every read of tasks, threads, conversations, contacts, channels, operators, audit."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m
        self._sql_by_ids: dict[tuple[str, int], str] = {}  # SQL text by (query, id count)

    # ---- tasks ---------------------------------------------------------------------------
    def task_select(self) -> pw.ModelSelect:
        m = self.m
        return (
            m.Task.select(m.Task, m.Contact.name.alias("contact_name"),
                          m.Channel.kind.alias("channel_kind"),
                          m.Channel.name.alias("channel_name"),
                          m.Operator.name.alias("assignee_name"))
            .join(m.Contact, pw.JOIN.LEFT_OUTER, on=(m.Task.contact == m.Contact.id))
            .switch(m.Task)
            .join(m.Channel, pw.JOIN.LEFT_OUTER, on=(m.Task.channel == m.Channel.id))
            .switch(m.Task)
            .join(m.Operator, pw.JOIN.LEFT_OUTER, on=(m.Task.assignee == m.Operator.id))
        )

    @staticmethod
    def task_from(obj: Any) -> TaskRow:
        return task_row(obj, getattr(obj, "contact_name", None), getattr(obj, "channel_kind", None),
                        getattr(obj, "channel_name", None), getattr(obj, "assignee_name", None))

    def filtered(self, query: pw.ModelSelect, f: TaskFilter) -> pw.ModelSelect:
        T = self.m.Task
        if f.assignee_id is not None:
            query = query.where(T.assignee == f.assignee_id)
        if f.unassigned:
            query = query.where(T.assignee.is_null())
        if f.channel_id is not None:
            query = query.where(T.channel == f.channel_id)
        if f.statuses:
            query = query.where(T.status.in_(f.statuses))
        if f.active_only:
            query = query.where(T.status.not_in(INACTIVE_STATUSES))
        if f.contact_id is not None:
            query = query.where(T.contact == f.contact_id)
        if f.hide_closed:
            query = query.where(T.status.not_in(CLOSED_STATUSES))
        if f.snoozed_only:
            query = query.where(self._snoozed_now())
        elif not f.include_snoozed:
            query = query.where(~self._snoozed_now())
        return query

    def _snoozed_now(self) -> Any:
        """Snoozed at this moment: until a time still ahead, or (no time) until the client
        writes. Compared with now, so a snooze ends in the lists without any timer."""
        T = self.m.Task
        return ((T.snoozed_until.is_null(False) & (T.snoozed_until > to_micros(utcnow())))
                | (T.snoozed_until.is_null() & (T.snooze_until_client == True)))  # noqa: E712

    def list_tasks(self, f: TaskFilter | None = None, after: Cursor | None = None,
                   limit: int = 50) -> Page[TaskRow]:
        """Tasks by last activity, newest first; ``after`` is the previous page's cursor."""
        T = self.m.Task
        query = self.filtered(self.task_select(), f or TaskFilter())
        if after is not None:
            at, task_id = after
            query = query.where(
                (T.last_activity_at < at) | ((T.last_activity_at == at) & (T.id < task_id)))
        rows = list(query.order_by(T.last_activity_at.desc(), T.id.desc()).limit(limit + 1).objects())
        items = tuple(self.task_from(r) for r in rows[:limit])
        cursor = (to_micros(items[-1].last_activity_at), items[-1].id) if len(rows) > limit else None
        return Page(items, cursor)

    def launch_statements(self) -> tuple[str, str]:
        """The schema version's and the newest tasks' SQL, written from the models, that
        :mod:`storage.launch_page` reads the first tasks with (no ORM)."""
        rows = self.core.ingesting.rows
        return rows.schema_version_sql(), rows.newest_tasks_sql()

    def count_tasks(self, f: TaskFilter | None = None) -> int:
        return self.filtered(self.m.Task.select(), f or TaskFilter()).count()

    def get_task(self, task_id: int) -> TaskRow:
        obj = self.task_select().where(self.m.Task.id == task_id).objects().first()
        if obj is None:
            raise NotFound(_("Task {id} does not exist.").format(id=task_id))
        return self.task_from(obj)

    def get_tasks(self, ids: list[int]) -> dict[int, TaskRow]:
        """Several tasks by id in one query (missing ids are absent from the result)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        return {t.id: self.task_from(t) for t in self._by_ids(
            self.m.Task, "tasks", lambda i: self.task_select().where(self.m.Task.id.in_(i)),
            wanted)}

    def chat_task_id(self, channel_id: int, chat_id: str) -> int | None:
        """The newest task of a conversation ``(channel, chat id)``, followed through merges."""
        T = self.m.Task
        row = (T.select(T.id, T.merged_into).where((T.channel == channel_id) & (T.chat_id == chat_id))
               .order_by(T.id.desc()).first())
        seen: set[int] = set()
        while row is not None and row.merged_into_id is not None and row.id not in seen:
            seen.add(row.id)
            row = T.select(T.id, T.merged_into).where(T.id == row.merged_into_id).first()
        return row.id if row is not None else None

    def find_task_by_number(self, number: int) -> TaskRow | None:
        obj = self.task_select().where(self.m.Task.number == number).objects().first()
        return self.task_from(obj) if obj else None

    def _by_ids(self, model: Any, name: str, build: Any, ids: list[int]) -> list[Any]:
        """``build(ids)`` run for these ids, its SQL built once per (query, count) and reused.

        peewee spends ~1 ms building each statement's SQL; the hot reads (ingest results,
        attachments of a page) reuse the text and only bind the ids."""
        key = (name, len(ids))
        sql = self._sql_by_ids.get(key)
        if sql is None:
            sql, params = build(list(range(len(ids)))).sql()
            assert len(params) == len(ids), "the query may bind nothing but the ids"
            self._sql_by_ids[key] = sql
        return list(model.raw(sql, *ids))

    # ---- messages ------------------------------------------------------------------------
    def message_rows(self, query: pw.ModelSelect | list[Any]) -> list[MessageRow]:
        m = self.m
        objs = query if isinstance(query, list) else list(query.objects())
        ids = [o.id for o in objs]
        atts: dict[int, list[Any]] = {}
        if ids:
            A = m.Attachment
            for a in self._by_ids(A, "attachments", lambda i: A.select().where(
                    A.message.in_(i)).order_by(A.id), ids):
                atts.setdefault(a.message_id, []).append(attachment_row(a))
        return [message_row(o, getattr(o, "operator_name", None), tuple(atts.get(o.id, ())))
                for o in objs]

    def message_select(self) -> pw.ModelSelect:
        m = self.m
        return (m.Message.select(m.Message, m.Operator.name.alias("operator_name"))
                .join(m.Operator, pw.JOIN.LEFT_OUTER, on=(m.Message.author_operator == m.Operator.id)))

    def thread_before(self, task_id: int, before: Cursor | None = None,
                      limit: int = 100) -> Page[MessageRow]:
        """Up to ``limit`` messages older than ``before`` (None: the newest), oldest first.

        ``next_cursor`` is where to ask for the page before this one, None at the start.
        """
        M = self.m.Message
        query = self.message_select().where(M.task == task_id)
        if before is not None:
            at, mid = before
            query = query.where((M.created_at < at) | ((M.created_at == at) & (M.id < mid)))
        rows = self.message_rows(query.order_by(M.created_at.desc(), M.id.desc()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        rows.reverse()
        return Page(tuple(rows), rows[0].cursor if more and rows else None)

    def thread_after(self, task_id: int, after: Cursor, limit: int = 100) -> Page[MessageRow]:
        """Up to ``limit`` messages newer than ``after``, oldest first; cursor for the next."""
        M = self.m.Message
        at, mid = after
        query = self.message_select().where(
            (M.task == task_id) & ((M.created_at > at) | ((M.created_at == at) & (M.id > mid))))
        rows = self.message_rows(query.order_by(M.created_at, M.id).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), rows[-1].cursor if more and rows else None)

    def thread_around(self, task_id: int, message_id: int, limit: int = 100) -> tuple[
            Page[MessageRow], Page[MessageRow]]:
        """The page ending at ``message_id`` and the page after it (for jumping to a hit)."""
        target = self.get_message(message_id)
        if target.task_id != task_id:
            raise NotFound(_("Message {id} is not in task {task}.").format(id=message_id, task=task_id))
        at, mid = target.cursor
        before = self.thread_before(task_id, (at, mid + 1), limit // 2)
        after = self.thread_after(task_id, target.cursor, limit - limit // 2)
        return before, after

    # ---- one client's conversation (what a channel replays to the client) ---------------
    def conversation_query(self, channel_id: int, chat_id: str) -> pw.ModelSelect:
        """Messages from the chat ``(channel, chat id)`` and replies addressed to it, in
        whatever task they sit now; never notes, events, nor another chat's messages."""
        M = self.m.Message
        return self.message_select().where(
            (M.channel == channel_id) & (M.chat_id == chat_id)
            & M.kind.in_((INBOUND, OUTBOUND)))

    def conversation_page(self, channel_id: int, chat_id: str, before: Cursor | None = None,
                          limit: int = 50) -> Page[MessageRow]:
        """Up to ``limit`` messages of the conversation older than ``before`` (None: the
        newest), oldest first; ``next_cursor`` asks for the older page, None at the start."""
        M = self.m.Message
        query = self.conversation_query(channel_id, chat_id)
        if before is not None:
            at, mid = before
            query = query.where((M.created_at < at) | ((M.created_at == at) & (M.id < mid)))
        rows = self.message_rows(query.order_by(M.created_at.desc(), M.id.desc()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        rows.reverse()
        return Page(tuple(rows), rows[0].cursor if more and rows else None)

    def conversation_after(self, channel_id: int, chat_id: str, after: Cursor,
                           limit: int = 200) -> Page[MessageRow]:
        """Up to ``limit`` messages of the conversation newer than ``after``, oldest first;
        ``next_cursor`` asks for the next newer page, None when there is no more."""
        M = self.m.Message
        at, mid = after
        query = self.conversation_query(channel_id, chat_id).where(
            (M.created_at > at) | ((M.created_at == at) & (M.id > mid)))
        rows = self.message_rows(query.order_by(M.created_at, M.id).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), rows[-1].cursor if more and rows else None)

    def thread_count(self, task_id: int) -> int:
        return self.m.Message.select().where(self.m.Message.task == task_id).count()

    def get_message(self, message_id: int) -> MessageRow:
        rows = self.message_rows(self.message_select().where(self.m.Message.id == message_id))
        if not rows:
            raise NotFound(_("Message {id} does not exist.").format(id=message_id))
        return rows[0]

    def get_messages(self, ids: list[int]) -> dict[int, MessageRow]:
        """Several messages by id in one query (missing ids are absent from the result)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        objs = self._by_ids(self.m.Message, "messages", lambda i: self.message_select().where(
            self.m.Message.id.in_(i)), wanted)
        return {r.id: r for r in self.message_rows(objs)}

    def find_message(self, channel_id: int, external_id: str) -> MessageRow | None:
        M = self.m.Message
        rows = self.message_rows(self.message_select().where(
            (M.channel == channel_id) & (M.external_id == external_id)))
        return rows[0] if rows else None

    # ---- contacts ------------------------------------------------------------------------
    def get_contact(self, contact_id: int) -> ContactRow:
        c = self.m.Contact.get_or_none(self.m.Contact.id == contact_id)
        if c is None:
            raise NotFound(_("Contact {id} does not exist.").format(id=contact_id))
        return contact_row(c)

    def contact_card(self, contact_id: int) -> ContactCard:
        """The contact (followed to the survivor if merged), every identity and every task."""
        m = self.m
        contact = self.get_contact(contact_id)
        while contact.merged_into_id is not None:
            contact = self.get_contact(contact.merged_into_id)
        identities = tuple(
            identity_row(i, i.channel) for i in
            m.Identity.select(m.Identity, m.Channel).join(m.Channel)
            .where(m.Identity.contact == contact.id).order_by(m.Identity.id))
        tasks = tuple(self.task_from(t) for t in self.task_select()
                      .where(m.Task.contact == contact.id)
                      .order_by(m.Task.last_activity_at.desc(), m.Task.id.desc()).objects())
        absorbed = tuple(contact_row(c) for c in
                         m.Contact.select().where(m.Contact.merged_into == contact.id))
        return ContactCard(contact, identities, tasks, absorbed)

    def find_contacts(self, text: str, limit: int = 20) -> list[ContactRow]:
        """Contacts whose name, phone, email or channel identity contains ``text`` (any case)."""
        m = self.m
        needle = f"%{fold(text.strip())}%"  # any case, Cyrillic too, ё as е

        def has(column: Any) -> Any:
            if self.core.postgres:
                folded = pw.fn.translate(pw.fn.lower(column), "ё", "е")
            else:  # SQLite's lower() and LIKE fold only ASCII: Python's fold, registered
                folded = pw.fn.sb_casefold(column)
            return folded ** needle

        ids = (m.Identity.select(m.Identity.contact)
               .where(has(m.Identity.display_name) | has(m.Identity.username)
                      | has(m.Identity.external_id)))
        query = (m.Contact.select().where(m.Contact.merged_into.is_null() & (
            has(m.Contact.name) | has(m.Contact.phones) | has(m.Contact.emails)
            | m.Contact.id.in_(ids)))
                 .order_by(m.Contact.name, m.Contact.id).limit(limit))
        return [contact_row(c) for c in query]

    # ---- channels, operators, audit ------------------------------------------------------
    def list_channels(self) -> list[ChannelRow]:
        return [channel_row(c) for c in self.m.Channel.select().order_by(self.m.Channel.id)]

    def get_channel(self, channel_id: int) -> ChannelRow:
        c = self.m.Channel.get_or_none(self.m.Channel.id == channel_id)
        if c is None:
            raise NotFound(_("Channel {id} does not exist.").format(id=channel_id))
        return channel_row(c)

    def channel_by_name(self, name: str) -> ChannelRow:
        c = self.m.Channel.get_or_none(self.m.Channel.name == name)
        if c is None:
            raise NotFound(_("There is no channel named {name!r}.").format(name=name))
        return channel_row(c)

    def list_operators(self) -> list[OperatorRow]:
        return [operator_row(o) for o in self.m.Operator.select().order_by(self.m.Operator.name)]

    def get_operator(self, operator_id: int) -> OperatorRow:
        o = self.m.Operator.get_or_none(self.m.Operator.id == operator_id)
        if o is None:
            raise NotFound(_("Operator {id} does not exist.").format(id=operator_id))
        return operator_row(o)

    def operator_by_name(self, name: str) -> OperatorRow | None:
        o = self.m.Operator.get_or_none(self.m.Operator.name == name)
        return operator_row(o) if o else None

    def audit_for(self, task_id: int) -> list[AuditRow]:
        A = self.m.Audit
        return [audit_row(a) for a in A.select().where(A.task == task_id).order_by(A.at, A.id)]

    # ---- supervisor ----------------------------------------------------------------------
    def supervisor_summary(self, waiting_limit: int = 10) -> SupervisorSummary:
        """Open tasks per operator and tasks still waiting for a first reply."""
        m = self.m
        T = m.Task
        active = T.status.not_in(INACTIVE_STATUSES)
        load = [OperatorLoad(r.assignee_id, r.assignee_name or _("Unassigned"), r.n) for r in
                T.select(T.assignee, m.Operator.name.alias("assignee_name"), pw.fn.COUNT(T.id).alias("n"))
                .join(m.Operator, pw.JOIN.LEFT_OUTER, on=(T.assignee == m.Operator.id))
                .where(active).group_by(T.assignee, m.Operator.name)
                .order_by(pw.fn.COUNT(T.id).desc()).objects()]
        waiting_q = self.task_select().where(
            active & T.first_reply_at.is_null() & T.last_client_message_at.is_null(False))
        count = waiting_q.count()
        waiting = tuple(self.task_from(t) for t in
                        waiting_q.order_by(T.last_client_message_at, T.id).limit(waiting_limit).objects())
        oldest = None
        if waiting and waiting[0].last_client_message_at:
            oldest = (utcnow() - waiting[0].last_client_message_at).total_seconds()
        return SupervisorSummary(tuple(load), count, oldest, waiting)


__all__ = ["Reads", "from_micros"]
