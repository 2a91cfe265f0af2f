"""Merging contacts and merging tasks.

Contact merge: identities, phones, emails and tasks move to the survivor; every task
keeps its own channel binding (the binding is on the task), so each channel's
conversation goes on working; the loser records where it went.

Task merge (cannot be undone): the source's messages move into the target and sort
by time among the target's, each marked as moved; the target keeps its channel, or
takes the source's if it had none; the source is closed with a link to the target; an
audit entry and a system event in both threads record it. Every message keeps the
address it was written with (``Message.channel``/``chat_id``), so a reply queued before
the merge still goes to the client it was written for; new replies go to the target's
channel and chat. Merging tasks of different clients is deliberate: without
``different_clients_ok`` it raises :class:`NeedsConfirmation` naming both clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage import events as ev
from storage.errors import NeedsConfirmation, RuleViolation
from storage.i18n import _
from storage.models import COMPLETED, INACTIVE_STATUSES, Models, utcnow
from storage.rows import ContactCard, MergeCheck, TaskRow
from storage.task_update import preview_of

if TYPE_CHECKING:
    from storage.core import StoreCore


class Merging:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def merge_contacts(self, survivor_id: int, loser_id: int,
                       operator_id: int | None = None) -> ContactCard:
        if survivor_id == loser_id:
            raise RuleViolation(_("A contact cannot be merged into itself."))
        m = self.m
        with self.core.transaction() as tx:
            survivor = self.core._contact(survivor_id)
            loser = self.core._contact(loser_id)
            if survivor.merged_into_id is not None or loser.merged_into_id is not None:
                raise RuleViolation(_("One of these contacts was already merged into another."))
            m.Identity.update(contact=survivor.id).where(m.Identity.contact == loser.id).execute()
            m.Task.update(contact=survivor.id).where(m.Task.contact == loser.id).execute()
            m.Message.update(author_contact=survivor.id).where(
                m.Message.author_contact == loser.id).execute()
            survivor.phones = _union(survivor.phones, loser.phones)
            survivor.emails = _union(survivor.emails, loser.emails)
            survivor.save()
            loser.merged_into = survivor.id
            loser.save()
            self.core._audit(None, operator_id, "contacts_merged", survivor=survivor.id, loser=loser.id,
                        loser_name=loser.name)
            tx.emit(ev.CONTACT_MERGED, contact_id=survivor.id, loser=loser.id)
        return self.core.reads.contact_card(survivor_id)

    def merge_check(self, target_id: int, source_ids: list[int] | int) -> MergeCheck:
        """What merging ``source_ids`` into ``target_id`` would join: whether the clients
        differ, and a sentence naming every task number, client and channel."""
        target, sources = self._merge_rows(target_id, self._source_list(target_id, source_ids))
        return self._check(target, sources)

    def _source_list(self, target_id: int, source_ids: list[int] | int) -> list[int]:
        sources = [source_ids] if isinstance(source_ids, int) else list(dict.fromkeys(source_ids))
        if not sources:
            raise RuleViolation(_("Choose at least one task to merge."))
        if target_id in sources:
            raise RuleViolation(_("A task cannot be merged into itself."))
        return sources

    def _merge_rows(self, target_id: int, sources: list[int]) -> tuple[TaskRow, list[TaskRow]]:
        target = self.core.reads.get_task(target_id)
        return target, [self.core.reads.get_task(s) for s in sources]

    def _client_of(self, task: TaskRow) -> int | None:
        """The task's contact, followed to the survivor of contact merges."""
        contact_id = task.contact_id
        seen: set[int] = set()
        while contact_id is not None and contact_id not in seen:
            seen.add(contact_id)
            row = self.m.Contact.get_or_none(self.m.Contact.id == contact_id)
            if row is None or row.merged_into_id is None:
                break
            contact_id = row.merged_into_id
        return contact_id

    def _check(self, target: TaskRow, sources: list[TaskRow]) -> MergeCheck:
        clients = {c for c in (self._client_of(t) for t in (target, *sources)) if c is not None}
        different = len(clients) > 1
        target_text = _describe(target)
        source_text = ", ".join(_describe(s) for s in sources)
        if different:
            # New replies go through the target's channel, or the first source's if it has none.
            via = target if target.channel_id is not None else next(
                (s for s in sources if s.channel_id is not None), None)
            text = _("These tasks belong to different clients: {sources} will be merged into "
                     "{target}. Replies already written still go to the client they were "
                     "written for; new replies will go to {client} · {channel}.").format(
                         sources=source_text, target=target_text,
                         client=(via.contact_name if via else "") or _("no client"),
                         channel=(via.channel_name if via else "") or _("no channel"))
        else:
            text = _("Merging {sources} into {target}.").format(
                sources=source_text, target=target_text)
        return MergeCheck(different_clients=different, description=text)

    def merge_tasks(self, target_id: int, source_ids: list[int] | int,
                    operator_id: int | None = None, *,
                    different_clients_ok: bool = False) -> TaskRow:
        """Merge the sources into the target (cannot be undone). Tasks of different
        clients raise :class:`NeedsConfirmation` unless ``different_clients_ok``."""
        sources = self._source_list(target_id, source_ids)
        with self.core.transaction() as tx:
            target = self.core._task(target_id)
            if target.merged_into_id is not None:
                raise RuleViolation(_("Task #{number} was itself merged into another task.").format(
                    number=target.number))
            loaded = [self.core._task(sid) for sid in sources]
            for source in loaded:
                if source.merged_into_id is not None:
                    raise RuleViolation(_("Task #{number} was already merged.").format(
                        number=source.number))
            check = self._check(*self._merge_rows(target_id, sources))
            if check.different_clients and not different_clients_ok:
                raise NeedsConfirmation(check.description)
            for source in loaded:
                self._merge_one(tx, target, source, operator_id, check.different_clients)
            self._refresh_summary(target)
            target.save()
            tx.emit(ev.TASK_MERGED, task_id=target.id, sources=[s.id for s in loaded])
        return self.core.reads.get_task(target_id)

    def _merge_one(self, tx: Any, target: Any, source: Any, operator_id: int | None,
                   different_clients: bool = False) -> None:
        M = self.m.Message
        parties = {  # who was joined, as they were before the merge (for the audit)
            "source_contact": source.contact_id, "target_contact": target.contact_id,
            "source_channel": source.channel_id, "target_channel": target.channel_id,
            "source_chat": source.chat_id, "target_chat": target.chat_id,
            "different_clients": different_clients,
        }
        M.update(moved_from=source.id).where((M.task == source.id) & M.moved_from.is_null()).execute()
        M.update(task=target.id).where(M.task == source.id).execute()
        took_channel = False
        if target.channel_id is None and source.channel_id is not None:
            target.channel, target.chat_id = source.channel_id, source.chat_id
            took_channel = True
            if source.bound_key and target.status not in INACTIVE_STATUSES:
                key = source.bound_key
                source.bound_key = None
                source.save()
                target.bound_key = key
        target.unread_count += source.unread_count
        if source.last_client_message_at and (target.last_client_message_at is None or
                                              source.last_client_message_at > target.last_client_message_at):
            target.last_client_message_at = source.last_client_message_at
        if source.first_reply_at and target.first_reply_at is None:
            target.first_reply_at = source.first_reply_at
        data = dict(source.additional_data or {})
        data.update(target.additional_data or {})
        target.additional_data = data
        source.status, source.merged_into, source.bound_key = COMPLETED, target.id, None
        source.unread_count = 0
        now = utcnow()
        source.save()
        self.core._system_event(tx, source, "merged_into",
                           _("This task was merged into task #{number}.").format(number=target.number),
                           at=now, target=target.id)
        self.core._system_event(tx, target, "merged_from",
                           _("Task #{number} was merged into this task.").format(number=source.number),
                           at=now, source=source.id, took_channel=took_channel)
        self.core._audit(target.id, operator_id, "task_merged", source=source.id,
                    took_channel=took_channel, **parties)
        self.core._audit(source.id, operator_id, "merged_into", target=target.id, **parties)

    def _refresh_summary(self, task: Any) -> None:
        """Recompute the last activity and preview from the thread after messages moved."""
        M = self.m.Message
        last = (M.select().where(M.task == task.id)
                .order_by(M.created_at.desc(), M.id.desc()).first())
        if last is not None:
            task.last_activity_at = last.created_at
            task.last_preview = preview_of(last.text)
            task.last_kind = last.kind


def _describe(task: TaskRow) -> str:
    """"task #12 (Ольга Кузнецова · telegram)": number, client and channel."""
    return _("task #{number} ({client} · {channel})").format(
        number=task.number, client=task.contact_name or _("no client"),
        channel=task.channel_name or _("no channel"))


def _union(a: list[str] | None, b: list[str] | None) -> list[str]:
    return list(dict.fromkeys([*(a or []), *(b or [])]))



