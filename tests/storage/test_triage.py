"""Issue 19: next task needing an answer (stable however the list re-sorts), oldest
unread task, unread total, cheap mark-read, closed tasks hidden on request."""

from __future__ import annotations

from datetime import timedelta

from storage import events as ev
from storage.inputs import TaskFilter
from storage.models import COMPLETED, DONE, utcnow
from tests.storage.conftest import Desk
from tests.storage.test_events import Recorder


def test_next_needing_an_answer_walks_waiting_tasks_in_a_stable_order(desk: Desk) -> None:
    a = desk.say(desk.web, "a", "first", minute=1).task.id
    b = desk.say(desk.web, "b", "second", minute=2).task.id
    c = desk.say(desk.web, "c", "third", minute=3).task.id
    answered = desk.say(desk.web, "d", "fourth", minute=4).task.id
    desk.store.reply(answered, desk.anna, "done for you")
    noted = desk.say(desk.web, "e", "fifth", minute=5).task.id
    desk.store.note(noted, desk.anna, "a note answers nothing")
    store = desk.store
    assert store.next_task_needing_answer().id == a
    # Answering a moves it up the activity list; "next" still goes on to b, then c.
    store.reply(a, desk.anna, "answer to a")
    assert store.next_task_needing_answer(after_task_id=a).id == b
    assert store.next_task_needing_answer(after_task_id=b).id == c
    assert store.next_task_needing_answer(after_task_id=c).id == noted
    assert store.next_task_needing_answer(after_task_id=noted).id == b  # wraps round
    store.reply(b, desk.anna, "x")
    store.reply(c, desk.anna, "x")
    store.reply(noted, desk.anna, "x")
    assert store.next_task_needing_answer(after_task_id=noted) is None


def test_filters_apply_to_next_and_closed_tasks_leave(desk: Desk) -> None:
    a = desk.say(desk.web, "a", "x", minute=1).task.id
    b = desk.say(desk.telegram, "1", "y", minute=2).task.id
    c = desk.say(desk.web, "c", "z", minute=3).task.id
    desk.store.set_status([c], DONE, by=desk.anna)
    assert desk.store.next_task_needing_answer(
        TaskFilter(channel_id=desk.telegram)).id == b
    assert desk.store.next_task_needing_answer(after_task_id=b).id == a  # c is done
    desk.store.snooze([a], utcnow() + timedelta(hours=1))
    assert desk.store.next_task_needing_answer(after_task_id=b) is None
    desk.store.set_status([b], COMPLETED, by=desk.anna)
    ids = [t.id for t in desk.store.list_tasks(TaskFilter(hide_closed=True,
                                                          include_snoozed=True)).items]
    assert ids == [a]


def test_oldest_unread_and_the_unread_total(desk: Desk) -> None:
    a = desk.say(desk.web, "a", "one", minute=1).task.id
    desk.say(desk.web, "a", "two", minute=2)
    b = desk.say(desk.web, "b", "three", minute=3).task.id
    store = desk.store
    assert store.unread_total() == 3
    assert store.oldest_unread_task().id == a
    store.mark_read(a)
    assert store.oldest_unread_task().id == b
    assert store.unread_total() == 1
    assert store.unread_total(TaskFilter(channel_id=desk.telegram)) == 0
    store.mark_read(b)
    assert store.oldest_unread_task() is None and store.unread_total() == 0


def test_mark_read_publishes_only_when_something_was_unread(desk: Desk) -> None:
    a = desk.say(desk.web, "a", "one").task.id
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    desk.store.mark_read(a)
    desk.store.mark_read(a)  # nothing unread now: no write, no event
    desk.say(desk.web, "a", "another while open")
    desk.store.mark_read(a)  # the open task's badge goes again
    sentinel = desk.store.reply(a, desk.anna, "end").id
    events = rec.wait_for(lambda evs: any(e.message_id == sentinel for e in evs))
    reads = [e for e in events if e.kind == ev.TASK_UPDATED and e.data.get("read")]
    assert len(reads) == 2
    assert desk.store.get_task(a).unread_count == 0
