"""The outbox: claim order per task, retries, delivery states, recovery at start-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.errors import NotFound
from storage.models import DELIVERED, FAILED, QUEUED, READ, SENDING, utcnow
from storage.store import Store
from tests.storage.conftest import Desk


def test_one_message_per_task_in_order(desk: Desk) -> None:
    a = desk.say(desk.telegram, "1").task.id
    b = desk.say(desk.web, "2").task.id
    a1, a2, a3 = (desk.store.reply(a, desk.anna, f"a{n}").id for n in (1, 2, 3))
    b1 = desk.store.reply(b, desk.anna, "b1").id
    first = desk.store.claim_outbox(limit=10)
    assert [i.message_id for i in first] == [a1, b1]  # one per task, oldest first
    assert desk.store.get_message(a1).delivery_state == SENDING
    assert desk.store.get_message(a1).attempts == 1
    assert desk.store.claim_outbox(limit=10) == []  # a1 still sending holds a2 back
    assert desk.store.next_outbox_due() is None  # so nothing is due: the worker must not spin
    desk.store.mark_sent(a1, "tg-a1")
    assert [i.message_id for i in desk.store.claim_outbox(limit=10)] == [a2]
    desk.store.mark_sent(a2, "tg-a2")
    (item,) = desk.store.claim_outbox(limit=10)
    assert (item.message_id, item.channel_kind, item.chat_id, item.text) == (a3, "telegram", "1", "a3")


def test_limit_and_channel_filter(desk: Desk) -> None:
    ids = {}
    for channel, chat in ((desk.telegram, "1"), (desk.web, "2"), (desk.vk, "3")):
        task = desk.say(channel, chat).task.id
        ids[channel] = desk.store.reply(task, desk.anna, "x").id
    assert [i.message_id for i in desk.store.claim_outbox(channel_ids=(desk.web,))] == [ids[desk.web]]
    assert len(desk.store.claim_outbox(limit=1)) == 1
    assert len(desk.store.claim_outbox(limit=5)) == 1  # the last one left


def test_transient_failure_retries_later_and_holds_the_task(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    m1 = desk.store.reply(task, desk.anna, "one").id
    m2 = desk.store.reply(task, desk.anna, "two").id
    desk.store.claim_outbox()
    later = utcnow() + timedelta(seconds=30)
    desk.store.schedule_retry(m1, later, "429 Too Many Requests")
    row = desk.store.get_message(m1)
    assert row.delivery_state == QUEUED and row.failure_reason == "429 Too Many Requests"
    assert desk.store.claim_outbox() == []  # m1 not due yet, and m2 waits behind it
    assert abs((desk.store.next_outbox_due() - later).total_seconds()) < 0.001
    (item,) = desk.store.claim_outbox(now=later + timedelta(seconds=1))
    assert item.message_id == m1 and item.attempts == 2
    desk.store.mark_sent(m1, "tg-1")
    assert desk.store.get_message(m1).failure_reason == ""
    assert [i.message_id for i in desk.store.claim_outbox()] == [m2]


def test_permanent_failure_does_not_block_the_rest(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    m1 = desk.store.reply(task, desk.anna, "one").id
    m2 = desk.store.reply(task, desk.anna, "two").id
    desk.store.claim_outbox()
    desk.store.mark_failed(m1, "Bad Request: message is too long")
    assert desk.store.get_message(m1).delivery_state == FAILED
    assert [i.message_id for i in desk.store.claim_outbox()] == [m2]


def test_delivery_states_never_move_backwards(desk: Desk) -> None:
    task = desk.say(desk.whatsapp, "+1").task.id
    m = desk.store.reply(task, desk.anna, "hi").id
    desk.store.claim_outbox()
    desk.store.mark_sent(m, "wamid.1")
    assert desk.store.find_message(desk.whatsapp, "wamid.1").id == m
    desk.store.mark_delivery(desk.whatsapp, "wamid.1", READ)
    desk.store.mark_delivery(desk.whatsapp, "wamid.1", DELIVERED)  # late, out of order
    assert desk.store.get_message(m).delivery_state == READ
    desk.store.mark_delivery(desk.whatsapp, "wamid.1", FAILED, "131047 re-engagement")
    row = desk.store.get_message(m)
    assert row.delivery_state == FAILED and row.failure_reason == "131047 re-engagement"
    assert desk.store.mark_delivery(desk.whatsapp, "unknown", READ) is None


def test_recover_outbox_flags_possible_doubles(desk: Desk) -> None:
    tg = desk.say(desk.telegram, "1").task.id
    web = desk.say(desk.web, "2").task.id
    vk = desk.say(desk.vk, "3").task.id
    ids = {name: desk.store.reply(t, desk.anna, name).id
           for name, t in (("telegram", tg), ("web", web), ("vk", vk))}
    queued_only = desk.store.reply(tg, desk.anna, "still queued").id
    desk.store.claim_outbox(limit=10)  # three "sending" when the process dies
    assert desk.store.recover_outbox() == 3
    for name, mid in ids.items():
        row = desk.store.get_message(mid)
        assert row.delivery_state == QUEUED
        # Telegram has no idempotency key: a resend may double; VK and the web chat do.
        assert row.meta.get("possible_double", False) is (name == "telegram")
    assert desk.store.get_message(queued_only).meta.get("possible_double") is None
    assert {i.message_id for i in desk.store.claim_outbox(limit=10)} == set(ids.values())
    assert desk.store.recover_outbox() == 3  # idempotent about what is sending now


def test_mark_on_unknown_message_is_a_clear_error(desk: Desk) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        desk.store.mark_sent(9999, "x")
    note = desk.store.note(desk.say(desk.web, "1").task.id, desk.anna, "private")
    with pytest.raises(NotFound):
        desk.store.mark_failed(note.id, "x")  # a note is not an outgoing message
    assert desk.store.get_message(note.id).delivery_state is None


def test_two_processes_never_claim_the_same_message(store: Store, store_url: str) -> None:
    """Two stores on one database (two `serve` processes) claiming at once: every queued
    message is claimed exactly once, and never out of order within a task."""
    import threading

    from storage.inputs import Inbound

    channel = store.ensure_channel("webchat", "web")
    tasks = [store.ingest(Inbound(channel.id, f"c{i}", f"c{i}", "hi")).task.id for i in range(6)]
    for _round in range(5):
        for task_id in tasks:
            store.reply(task_id, None, f"reply {_round}")
    other = Store.open(store_url)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(s: Store) -> None:
        for _ in range(60):
            items = s.claim_outbox(limit=3)
            with lock:
                claimed.extend(i.message_id for i in items)
            for item in items:
                s.mark_sent(item.message_id, None)

    try:
        threads = [threading.Thread(target=drain, args=(s,)) for s in (store, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert len(claimed) == 30
    assert len(set(claimed)) == 30


def test_mark_sent_with_an_id_a_client_message_already_has(store: Store) -> None:
    """A channel whose ids are per chat may give a reply the id of a client message:
    the reply is still marked sent (never left in "sending" to be resent forever)."""
    from storage.inputs import Inbound

    channel = store.ensure_channel("generic", "api")
    inbound = store.ingest(Inbound(channel.id, "c", "c", "hi", external_id="42"))
    reply = store.reply(inbound.task.id, None, "hello")
    [item] = store.claim_outbox()
    store.mark_sent(item.message_id, "42")
    sent = store.get_message(reply.id)
    assert sent.delivery_state == "sent"
    assert sent.meta["channel_message_id"] == "42"
    assert store.find_message(channel.id, "42").id == inbound.message.id
