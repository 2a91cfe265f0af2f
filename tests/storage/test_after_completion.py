"""Rule 2 — after completion: the next message opens a new task that links the previous
one and carries its last N messages (N per channel, default 10); or, with the channel's
``reopen_completed`` setting, the old task is reopened."""

from __future__ import annotations

import pytest

from storage.models import CANCELLED, COMPLETED, DONE, IN_PROGRESS
from tests.storage.conftest import Desk


def _complete_after(desk: Desk, channel: int, chat: str, messages: int) -> int:
    task_id = 0
    for n in range(messages):
        task_id = desk.say(channel, chat, f"old message {n:02d}").task.id
    desk.store.reply(task_id, desk.anna, "operator answer")
    desk.store.set_status([task_id], COMPLETED, by=desk.anna)
    return task_id


def test_new_task_links_previous_with_last_ten_messages(desk: Desk) -> None:
    old = _complete_after(desk, desk.telegram, "500", 12)
    r = desk.say(desk.telegram, "500", "I am back")
    assert r.created_task and r.task.id != old
    new = desk.store.get_task(r.task.id)
    assert new.previous_task_id == old
    assert new.additional_data["previous_task"] == desk.store.get_task(old).number
    assert f"#{desk.store.get_task(old).number}" in new.description
    lines = new.description.splitlines()[1:]
    assert len(lines) == 10  # the last 10 messages: 9 client ones and the reply
    assert "old message 02" not in new.description and "old message 03" in new.description
    assert "operator answer" in lines[-1]
    assert new.contact_id == desk.store.get_task(old).contact_id
    # The old task keeps its thread; the new one starts with the new message.
    assert "I am back" not in [m.text for m in desk.store.thread_before(old).items]


@pytest.mark.parametrize("count", [1, 5, 20])
def test_history_length_is_a_channel_setting(desk: Desk, count: int) -> None:
    channel = desk.store.ensure_channel("webchat", "short", {"history_messages": count}).id
    _complete_after(desk, channel, "v", 25)
    new = desk.store.get_task(desk.say(channel, "v", "again").task.id)
    assert len(new.description.splitlines()) == 1 + count


def test_cancelled_counts_as_inactive_too(desk: Desk) -> None:
    first = desk.say(desk.web, "v").task.id
    desk.store.set_status([first], CANCELLED)
    second = desk.say(desk.web, "v")
    assert second.created_task and second.task.previous_task_id == first


def test_done_is_still_active_and_goes_back_to_work(desk: Desk) -> None:
    first = desk.say(desk.web, "v").task.id
    desk.store.set_status([first], DONE)
    again = desk.say(desk.web, "v")
    assert again.task.id == first and not again.created_task
    assert again.task.status == IN_PROGRESS


def test_reopen_setting_reopens_the_completed_task(desk: Desk) -> None:
    channel = desk.store.ensure_channel("telegram", "reopening", {"reopen_completed": True}).id
    old = _complete_after(desk, channel, "500", 2)
    r = desk.say(channel, "500", "one more thing")
    assert r.task.id == old and not r.created_task
    task = desk.store.get_task(old)
    assert task.status == IN_PROGRESS
    assert desk.store.count_tasks() == 1 + sum(
        1 for t in desk.store.list_tasks().items if t.channel_id != channel)
    thread = list(desk.store.thread_before(old).items)
    at = [m.id for m in thread].index(r.message.id)
    assert thread[at - 1].meta.get("event") == "reopened"  # the event, then the message


def test_chain_of_three_tasks_links_each_to_the_one_before(desk: Desk) -> None:
    ids = []
    for _ in range(3):
        r = desk.say(desk.web, "v")
        ids.append(r.task.id)
        desk.store.set_status([r.task.id], COMPLETED)
    assert desk.store.get_task(ids[1]).previous_task_id == ids[0]
    assert desk.store.get_task(ids[2]).previous_task_id == ids[1]
    assert desk.store.get_task(ids[2]).status == COMPLETED


def test_reopening_by_hand_is_refused_when_a_newer_task_is_active(desk: Desk) -> None:
    old = _complete_after(desk, desk.web, "v", 1)
    desk.say(desk.web, "v", "new question")
    with pytest.raises(Exception, match="already the active conversation"):
        desk.store.set_status([old], IN_PROGRESS)
    assert desk.store.get_task(old).status == COMPLETED
