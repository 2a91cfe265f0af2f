"""Issue 13: drafts per task and operator, stored, cleared by sending."""

from __future__ import annotations

import pytest

from storage.errors import NotFound
from storage.store import Store
from tests.storage.conftest import Desk


def test_a_draft_belongs_to_one_task_and_one_operator(desk: Desk) -> None:
    olga = desk.say(desk.telegram, "1", display_name="Ольга").task.id
    ivan = desk.say(desk.web, "2", display_name="Ivan").task.id
    drafts = desk.store.drafts
    drafts.save(olga, desk.anna, "Ольга, ваш заказ готов")
    drafts.save(olga, desk.boris, "Boris's own words", private=True)
    assert drafts.get(ivan, desk.anna) is None  # never follows the operator elsewhere
    mine = drafts.get(olga, desk.anna)
    assert mine is not None
    assert (mine.task_id, mine.operator_id, mine.text, mine.private) == (
        olga, desk.anna, "Ольга, ваш заказ готов", False)
    theirs = drafts.get(olga, desk.boris)
    assert theirs is not None and theirs.private and theirs.text == "Boris's own words"
    drafts.save(olga, desk.anna, "Ольга, ваш заказ отправлен", private=True)  # replaced
    again = drafts.get(olga, desk.anna)
    assert again is not None and again.text == "Ольга, ваш заказ отправлен" and again.private
    assert again.updated_at >= mine.updated_at
    drafts.save(ivan, desk.anna, "Ivan…")
    assert drafts.task_ids(desk.anna) == frozenset({olga, ivan})
    assert drafts.task_ids(desk.boris) == frozenset({olga})
    assert drafts.task_ids(desk.maria) == frozenset()


def test_blank_text_deletes_and_clear_forgets(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    desk.store.drafts.save(task, desk.anna, "something")
    desk.store.drafts.save(task, desk.anna, "  \n ")
    assert desk.store.drafts.get(task, desk.anna) is None
    desk.store.drafts.save(task, desk.anna, "something")
    desk.store.drafts.clear(task, desk.anna)
    assert desk.store.drafts.get(task, desk.anna) is None
    desk.store.drafts.clear(task, desk.anna)  # clearing nothing is fine
    assert desk.store.drafts.task_ids(desk.anna) == frozenset()


def test_a_draft_for_a_missing_task_or_operator_is_refused(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    with pytest.raises(NotFound):
        desk.store.drafts.save(9999, desk.anna, "x")
    with pytest.raises(NotFound):
        desk.store.drafts.save(task, 9999, "x")


def test_drafts_survive_reopening_the_store(desk: Desk, store_url: str) -> None:
    task = desk.say(desk.telegram, "1").task.id
    desk.store.drafts.save(task, desk.anna, "half-written answer")
    again = Store.open(store_url)
    try:
        row = again.drafts.get(task, desk.anna)
        assert row is not None and row.text == "half-written answer"
        assert again.drafts.task_ids(desk.anna) == frozenset({task})
    finally:
        again.close()


def test_sending_clears_only_the_senders_draft_of_that_task(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    other = desk.say(desk.telegram, "2").task.id
    desk.store.drafts.save(task, desk.anna, "answer")
    desk.store.drafts.save(task, desk.boris, "Boris's answer")
    desk.store.drafts.save(other, desk.anna, "for the other client")
    desk.store.reply(task, desk.anna, "answer")
    assert desk.store.drafts.get(task, desk.anna) is None
    assert desk.store.drafts.get(task, desk.boris) is not None
    assert desk.store.drafts.get(other, desk.anna) is not None
    desk.store.note(task, desk.boris, "Boris's answer")
    assert desk.store.drafts.get(task, desk.boris) is None


def test_a_refused_reply_keeps_the_draft(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    desk.store.drafts.save(task, desk.anna, "x" * 5000)
    T = desk.store.m.Task
    T.update(channel=None).where(T.id == task).execute()
    with pytest.raises(Exception, match="not bound to any channel"):
        desk.store.reply(task, desk.anna, "x" * 5000)
    assert desk.store.drafts.get(task, desk.anna) is not None
