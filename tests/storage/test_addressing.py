"""Issue 13: the address belongs to the message; merging different clients is deliberate;
a client's conversation holds only their own words and the replies written to them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.errors import NeedsConfirmation
from storage.models import COMPLETED, EVENT, INBOUND, NOTE, OUTBOUND, utcnow
from tests.storage.conftest import Desk, snapshot

# ---- 1. the address belongs to the message ------------------------------------------------


def _queued_then_merged(desk: Desk) -> tuple[int, int, int]:
    """Client A (web chat "visitor-a") has a reply queued; A's task is merged into client
    B's (Telegram chat "2002"). Returns (A's task, B's task, the queued reply)."""
    a = desk.say(desk.web, "visitor-a", "my card ends 4242", display_name="Alice").task.id
    b = desk.say(desk.telegram, "2002", "где мой заказ?", display_name="Борис К.").task.id
    queued = desk.store.reply(a, desk.anna, "Alice, your card is fine.")
    assert (queued.channel_id, queued.chat_id) == (desk.web, "visitor-a")
    desk.store.merge_tasks(b, [a], desk.maria, different_clients_ok=True)
    assert desk.store.get_message(queued.id).task_id == b  # it moved...
    return a, b, queued.id


def test_a_reply_queued_before_a_merge_goes_to_its_own_client(desk: Desk) -> None:
    _a, b, queued = _queued_then_merged(desk)
    (item,) = desk.store.claim_outbox(limit=10)
    assert item.message_id == queued and item.task_id == b
    assert (item.channel_id, item.channel_kind, item.chat_id) == (desk.web, "webchat", "visitor-a")
    assert desk.store.get_message(queued).chat_id == "visitor-a"  # ...its address did not


def test_the_address_survives_a_transient_retry_and_a_restart(desk: Desk) -> None:
    _a, _b, queued = _queued_then_merged(desk)
    (item,) = desk.store.claim_outbox(limit=10)
    desk.store.schedule_retry(item.message_id, utcnow() - timedelta(seconds=1), "429 Too Many")
    (again,) = desk.store.claim_outbox(limit=10)
    assert (again.message_id, again.channel_id, again.chat_id) == (queued, desk.web, "visitor-a")
    assert again.attempts == 2
    # The process dies while sending; the next start re-queues the message.
    assert desk.store.recover_outbox() == 1
    (recovered,) = desk.store.claim_outbox(limit=10)
    assert (recovered.message_id, recovered.channel_id, recovered.chat_id) == (
        queued, desk.web, "visitor-a")
    # A permanent failure retried by hand keeps it too.
    desk.store.mark_failed(queued, "gateway down")
    desk.store.retry(queued, desk.anna)
    (by_hand,) = desk.store.claim_outbox(limit=10)
    assert (by_hand.channel_id, by_hand.chat_id) == (desk.web, "visitor-a")


def test_new_replies_after_a_merge_go_through_the_target(desk: Desk) -> None:
    _a, b, queued = _queued_then_merged(desk)
    new = desk.store.reply(b, desk.anna, "Борис, заказ в пути.")
    assert (new.channel_id, new.chat_id) == (desk.telegram, "2002")
    items = {i.message_id: (i.channel_id, i.chat_id) for i in desk.store.claim_outbox(limit=10)}
    # One per task and in order: A's earlier reply first, then (once sent) the new one.
    assert items == {queued: (desk.web, "visitor-a")}
    desk.store.mark_sent(queued, None)
    items = {i.message_id: (i.channel_id, i.chat_id) for i in desk.store.claim_outbox(limit=10)}
    assert items == {new.id: (desk.telegram, "2002")}


def test_a_target_without_channel_sends_new_replies_through_the_sources(desk: Desk) -> None:
    target = desk.say(desk.telegram, "1", display_name="Same").task.id
    T = desk.store.m.Task
    T.update(channel=None, chat_id=None, bound_key=None).where(T.id == target).execute()
    source = desk.say(desk.web, "visitor", "from web", display_name="Other").task.id
    desk.store.merge_tasks(target, [source], desk.maria, different_clients_ok=True)
    row = desk.store.reply(target, desk.anna, "answer")
    assert (row.channel_id, row.chat_id) == (desk.web, "visitor")


def test_inbound_and_outbound_record_their_chat_notes_and_events_none(desk: Desk) -> None:
    r = desk.say(desk.telegram, "555", "hi")
    assert (r.message.channel_id, r.message.chat_id) == (desk.telegram, "555")
    fast = desk.say(desk.telegram, "555", "again")  # the known-client fast path
    assert (fast.message.channel_id, fast.message.chat_id) == (desk.telegram, "555")
    note = desk.store.note(r.task.id, desk.anna, "private")
    assert (note.channel_id, note.chat_id) == (None, None)
    events = [m for m in desk.store.thread_before(r.task.id).items if m.kind == EVENT]
    assert events and all(m.chat_id is None for m in events)


# ---- 2. merging different clients is deliberate -------------------------------------------


def test_merging_different_clients_needs_confirmation_and_changes_nothing(desk: Desk) -> None:
    a = desk.say(desk.web, "visitor-a", display_name="Ольга Кузнецова").task
    b = desk.say(desk.telegram, "2002", display_name="Ivan Petrov").task
    check = desk.store.merge_check(b.id, [a.id])
    assert check.different_clients
    for part in (f"#{a.number}", f"#{b.number}", "Ольга Кузнецова", "Ivan Petrov", "web",
                 "telegram"):
        assert part in check.description
    assert "new replies will go to Ivan Petrov · telegram" in check.description
    before = snapshot(desk.store)
    with pytest.raises(NeedsConfirmation) as err:
        desk.store.merge_tasks(b.id, [a.id], desk.maria)
    assert str(err.value) == check.description
    assert snapshot(desk.store) == before
    desk.store.merge_tasks(b.id, [a.id], desk.maria, different_clients_ok=True)
    (entry,) = [e for e in desk.store.audit_for(b.id) if e.action == "task_merged"]
    assert entry.operator_id == desk.maria
    assert (entry.detail["source_contact"], entry.detail["target_contact"]) == (
        a.contact_id, b.contact_id)
    assert (entry.detail["source_channel"], entry.detail["target_channel"]) == (
        desk.web, desk.telegram)
    assert entry.detail["different_clients"] is True
    (closing,) = [e for e in desk.store.audit_for(a.id) if e.action == "merged_into"]
    assert closing.detail["source_contact"] == a.contact_id


def test_tasks_of_one_client_merge_without_confirmation(desk: Desk) -> None:
    first = desk.say(desk.telegram, "1", "one", display_name="Ivan")
    second = desk.say(desk.web, "w", "two", display_name="Ivan P.")
    desk.store.merge_contacts(first.contact_id, second.contact_id, desk.maria)
    check = desk.store.merge_check(first.task.id, second.task.id)
    assert not check.different_clients
    assert f"#{first.task.number}" in check.description and "Ivan" in check.description
    merged = desk.store.merge_tasks(first.task.id, second.task.id, desk.maria)
    assert merged.id == first.task.id
    (entry,) = [e for e in desk.store.audit_for(first.task.id) if e.action == "task_merged"]
    assert entry.detail["different_clients"] is False


# ---- 3. a client sees only their own conversation -----------------------------------------


def _two_visitors_merged(desk: Desk) -> tuple[int, int]:
    a = desk.say(desk.web, "visitor-a", "my card ends 4242", display_name="Alice").task.id
    b = desk.say(desk.web, "visitor-b", "where is my parcel?", display_name="Bob").task.id
    desk.store.reply(a, desk.anna, "Alice: the card is fine.")
    desk.store.reply(b, desk.anna, "Bob: the parcel left today.")
    desk.store.note(a, desk.anna, "internal: check Alice's card")
    desk.store.merge_tasks(b, [a], desk.maria, different_clients_ok=True)
    desk.say(desk.web, "visitor-b", "thanks!")
    desk.store.reply(b, desk.anna, "You are welcome, Bob.")
    return a, b


def test_each_visitor_sees_only_their_words_after_a_merge(desk: Desk) -> None:
    _a, b = _two_visitors_merged(desk)
    alice = desk.store.conversation_page(desk.web, "visitor-a")
    bob = desk.store.conversation_page(desk.web, "visitor-b")
    assert [m.text for m in alice.items] == ["my card ends 4242", "Alice: the card is fine."]
    # (the desk's clients write on yesterday's clock; replies are written now)
    assert [m.text for m in bob.items] == ["where is my parcel?", "thanks!",
                                           "Bob: the parcel left today.", "You are welcome, Bob."]
    assert alice.next_cursor is None and bob.next_cursor is None
    for page, chat in ((alice, "visitor-a"), (bob, "visitor-b")):
        assert all(m.kind in (INBOUND, OUTBOUND) and m.chat_id == chat for m in page.items)
        assert all(m.task_id == b for m in page.items)  # wherever they sit now
    # The merged task itself shows everything, notes and events included.
    kinds = {m.kind for m in desk.store.thread_before(b).items}
    assert {INBOUND, OUTBOUND, NOTE, EVENT} <= kinds


def test_conversation_pages_by_keyset_both_ways(desk: Desk) -> None:
    task = desk.say(desk.web, "v", "m0", minute=0).task.id
    for n in range(1, 7):
        desk.say(desk.web, "v", f"m{n}", minute=n)
    desk.store.note(task, desk.anna, "not for the client")
    desk.say(desk.web, "someone-else", "other", minute=3)
    newest = desk.store.conversation_page(desk.web, "v", limit=3)
    assert [m.text for m in newest.items] == ["m4", "m5", "m6"]
    older = desk.store.conversation_page(desk.web, "v", before=newest.next_cursor, limit=3)
    assert [m.text for m in older.items] == ["m1", "m2", "m3"]
    oldest = desk.store.conversation_page(desk.web, "v", before=older.next_cursor, limit=3)
    assert [m.text for m in oldest.items] == ["m0"] and oldest.next_cursor is None
    after = desk.store.conversation_after(desk.web, "v", oldest.items[0].cursor, limit=4)
    assert [m.text for m in after.items] == ["m1", "m2", "m3", "m4"]
    rest = desk.store.conversation_after(desk.web, "v", after.next_cursor, limit=4)
    assert [m.text for m in rest.items] == ["m5", "m6"] and rest.next_cursor is None
    assert desk.store.conversation_page(desk.telegram, "v").items == ()


def test_conversation_query_uses_the_address_index(desk: Desk) -> None:
    desk.say(desk.web, "v", "hello")
    query = desk.store.reads.conversation_query(desk.web, "v").order_by(
        desk.store.m.Message.created_at.desc()).limit(10)
    sql, params = query.sql()
    plan = " ".join(str(row) for row in desk.store.db.execute_sql(
        ("EXPLAIN QUERY PLAN " if not desk.store.postgres else "EXPLAIN ") + sql, params))
    if desk.store.postgres:
        # A tiny table may be scanned; the planner must at least be able to use the index.
        desk.store.db.execute_sql("SET enable_seqscan = off")
        plan = " ".join(str(row) for row in desk.store.db.execute_sql("EXPLAIN " + sql, params))
        desk.store.db.execute_sql("SET enable_seqscan = on")
    assert "message_channel_id_chat_id_created_at_id" in plan


def test_a_follow_up_carries_over_only_its_clients_own_conversation(desk: Desk) -> None:
    _a, b = _two_visitors_merged(desk)
    desk.store.set_status([b], COMPLETED)
    follow_up = desk.say(desk.web, "visitor-b", "one more thing")
    assert follow_up.created_task and follow_up.task.previous_task_id == b
    history = follow_up.task.description
    assert "where is my parcel?" in history and "You are welcome, Bob." in history
    assert "4242" not in history and "Alice" not in history and "internal" not in history


def test_a_queued_message_without_an_address_fails_instead_of_being_guessed(desk: Desk) -> None:
    """Only a damaged old row could lack its chat: it is failed (visible, retryable by
    hand once fixed), never sent to the task's current chat, and blocks nothing."""
    from storage.models import FAILED

    task = desk.say(desk.telegram, "1").task.id
    broken = desk.store.reply(task, desk.anna, "from a damaged row").id
    fine = desk.store.reply(task, desk.anna, "written properly").id
    M = desk.store.m.Message
    M.update(chat_id=None).where(M.id == broken).execute()
    (item,) = desk.store.claim_outbox(limit=10)
    assert (item.message_id, item.chat_id) == (fine, "1")
    row = desk.store.get_message(broken)
    assert row.delivery_state == FAILED and "no recorded chat" in row.failure_reason
