"""Issue 19.4: a reply quotes a client message of its own chat; a client's reply points
at the message it answers."""

from __future__ import annotations

import pytest

from storage.errors import RuleViolation
from storage.inputs import Inbound
from tests.storage.conftest import Desk, snapshot


def test_a_reply_quotes_a_client_message_of_its_chat(desk: Desk) -> None:
    asked = desk.say(desk.telegram, "1001", "Where is my order 42?", external_id="1001:7")
    task = asked.task.id
    reply = desk.store.reply(task, desk.anna, "It ships today.",
                             quote_message_id=asked.message.id)
    assert reply.quote_message_id == asked.message.id
    assert reply.meta["quote_external_id"] == "1001:7"
    assert reply.quote_text == "Where is my order 42?"
    [item] = desk.store.claim_outbox(limit=5)
    assert item.meta["quote_external_id"] == "1001:7"  # what the connector sends natively


def test_the_quote_excerpt_is_one_short_line(desk: Desk) -> None:
    long = desk.say(desk.web, "v1", "line one\n" + "word " * 100)
    reply = desk.store.reply(long.task.id, desk.anna, "ok", quote_message_id=long.message.id)
    assert "\n" not in reply.quote_text and len(reply.quote_text) <= 100
    assert reply.quote_text.startswith("line one word")


def test_a_split_reply_quotes_on_its_first_part_only(desk: Desk) -> None:
    asked = desk.say(desk.telegram, "1002", "tell me everything")
    first = desk.store.reply(asked.task.id, desk.anna, "word " * 1500,
                             quote_message_id=asked.message.id)
    parts = [m for m in desk.store.thread_before(asked.task.id).items if m.kind == "outbound"]
    assert len(parts) == 2 and parts[0].id == first.id
    assert parts[0].quote_message_id == asked.message.id
    assert parts[1].quote_message_id is None


def test_another_clients_merged_in_words_are_never_quoted_to_this_client(desk: Desk) -> None:
    a = desk.say(desk.web, "visitor-a", "A's private question")
    b = desk.say(desk.telegram, "2002", "B asks")
    desk.store.merge_tasks(b.task.id, [a.task.id], desk.maria, different_clients_ok=True)
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="another client"):
        desk.store.reply(b.task.id, desk.anna, "answer", quote_message_id=a.message.id)
    assert snapshot(desk.store) == before
    # A private note may point at it: it never leaves the team.
    note = desk.store.reply(b.task.id, desk.anna, "about A", private=True,
                            quote_message_id=a.message.id)
    assert note.quote_message_id == a.message.id


def test_only_a_client_message_of_this_task_can_be_quoted(desk: Desk) -> None:
    mine = desk.say(desk.web, "v2", "hello")
    other = desk.say(desk.web, "v3", "other task")
    ours = desk.store.reply(mine.task.id, desk.anna, "our own words")
    for bad in (other.message.id, ours.id, 999_999):
        with pytest.raises(RuleViolation):
            desk.store.reply(mine.task.id, desk.anna, "x", quote_message_id=bad)


def test_a_clients_reply_points_at_the_message_it_answers(desk: Desk) -> None:
    """A known client in their active task (the fast path's case) still gets it: the fast
    path hands replies to the general one."""
    first = desk.say(desk.telegram, "3003", "first", external_id="3003:1")
    ours = desk.store.reply(first.task.id, desk.anna, "question?")
    [item] = desk.store.claim_outbox(limit=5)
    desk.store.mark_sent(item.message_id, "3003:2")
    answer = desk.say(desk.telegram, "3003", "yes, that", external_id="3003:3",
                      reply_to_external_id="3003:2")
    assert answer.message.reply_to_message_id == ours.id
    assert answer.message.meta["reply_to_external_id"] == "3003:2"
    unknown = desk.say(desk.telegram, "3003", "re: old", external_id="3003:4",
                       reply_to_external_id="3003:0")
    assert unknown.message.reply_to_message_id is None
    assert unknown.message.meta["reply_to_external_id"] == "3003:0"
    assert desk.store.get_task(first.task.id).unread_count == 2  # counted like any message


def test_a_reply_to_another_chats_message_is_not_resolved(desk: Desk) -> None:
    desk.say(desk.vk, "111", "in chat 111", external_id="55")
    other = desk.store.ingest(Inbound(channel_id=desk.vk, chat_id="222", sender_id="222",
                                      text="re", external_id="56", reply_to_external_id="55"))
    assert other.message.reply_to_message_id is None
