"""Rule 8 — assignment, status changes and the automation hooks ("operator replied →
waiting for the client", "client wrote → in progress"); additional data is read-only."""

from __future__ import annotations

import pytest

from storage.automation import matches
from storage.errors import NotFound, ReadOnly, RuleViolation
from storage.inputs import TaskFilter
from storage.models import CANCELLED, COMPLETED, DONE, IN_PROGRESS, NEW, STATUSES, WAITING
from tests.storage.conftest import Desk, snapshot


def test_operator_reply_moves_to_waiting_and_client_answer_back_to_work(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1", "question").task.id
    assert desk.store.get_task(task).status == NEW
    desk.store.assign([task], desk.anna, by=desk.anna)
    assert desk.store.get_task(task).status == IN_PROGRESS  # taking a new task starts work
    desk.store.reply(task, desk.anna, "answer")
    assert desk.store.get_task(task).status == WAITING
    desk.say(desk.telegram, "1", "thanks, but...")
    assert desk.store.get_task(task).status == IN_PROGRESS
    desk.store.set_status([task], DONE, by=desk.anna)
    desk.say(desk.telegram, "1", "one more")
    assert desk.store.get_task(task).status == IN_PROGRESS


def test_a_note_or_a_new_clients_message_keep_new(desk: Desk) -> None:
    task = desk.say(desk.telegram, "1").task.id
    desk.say(desk.telegram, "1", "anyone?")
    desk.store.note(task, desk.anna, "looking")
    assert desk.store.get_task(task).status == NEW


def test_assignment_records_event_and_audit(desk: Desk) -> None:
    a = desk.say(desk.web, "1").task.id
    b = desk.say(desk.web, "2").task.id
    desk.store.assign([a, b], desk.boris, by=desk.maria)
    for task in (a, b):
        row = desk.store.get_task(task)
        assert row.assignee_id == desk.boris and row.assignee_name == "Борис"
        assert any(m.meta.get("event") == "assigned" and "Борис" in m.text
                   for m in desk.store.thread_before(task).items)
        assert ("assigned", desk.maria) in [(x.action, x.operator_id) for x in desk.store.audit_for(task)]
    assert [t.id for t in desk.store.list_tasks(TaskFilter(assignee_id=desk.boris)).items] == [b, a]
    desk.store.take_over(a, desk.maria)
    assert desk.store.get_task(a).assignee_id == desk.maria
    desk.store.assign([a], None, by=desk.maria)
    assert desk.store.get_task(a).assignee_id is None
    assert a in [t.id for t in desk.store.list_tasks(TaskFilter(unassigned=True)).items]


def test_default_assignee_from_channel_settings(desk: Desk) -> None:
    channel = desk.store.ensure_channel("webchat", "sales", {"default_assignee": "Борис"}).id
    assert desk.say(channel, "v").task.assignee_id == desk.boris


def test_every_status_can_be_set_and_bad_input_changes_nothing(desk: Desk) -> None:
    task = desk.say(desk.web, "1").task.id
    for status in (IN_PROGRESS, WAITING, DONE, COMPLETED, CANCELLED, NEW):
        desk.store.set_status([task], status, by=desk.anna)
        assert desk.store.get_task(task).status == status
    assert set(STATUSES) == {NEW, IN_PROGRESS, WAITING, DONE, COMPLETED, CANCELLED}
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="Unknown status"):
        desk.store.set_status([task], "archived")
    with pytest.raises(NotFound):
        desk.store.set_status([task, 9999], DONE)  # all or nothing
    with pytest.raises(NotFound):
        desk.store.assign([task], 9999)
    assert snapshot(desk.store) == before


def test_additional_data_is_read_only(desk: Desk) -> None:
    task = desk.say(desk.web, "1", system_data={"page": "/pay"}).task.id
    before = snapshot(desk.store)
    with pytest.raises(ReadOnly):
        desk.store.update_task(task, desk.anna, additional_data={"page": "/hacked"})
    with pytest.raises(ReadOnly):
        desk.store.update_task(task, desk.anna, title="ok", additional_data={})
    with pytest.raises(RuleViolation):
        desk.store.update_task(task, desk.anna, status="done")
    assert snapshot(desk.store) == before
    desk.store.update_task(task, desk.anna, title="Оплата картой", description="проверить")
    row = desk.store.get_task(task)
    assert (row.title, row.description) == ("Оплата картой", "проверить")
    assert row.additional_data["page"] == "/pay"


def test_mark_read_and_unread_count(desk: Desk) -> None:
    task = desk.say(desk.web, "1").task.id
    desk.say(desk.web, "1")
    assert desk.store.get_task(task).unread_count == 2
    desk.store.mark_read(task)
    assert desk.store.get_task(task).unread_count == 0


def test_automation_conditions(desk: Desk) -> None:
    task = desk.say(desk.web, "1", system_data={"utm_source": "ads"}).task.id
    row = desk.store.get_task(task)
    assert matches({"channel": "webchat", "last_writer": "client",
                    "additional_data.utm_source": "ads"}, row)
    assert not matches({"status": [DONE, WAITING]}, row)
    desk.store.reply(task, desk.anna, "hi")
    row = desk.store.get_task(task)
    assert matches({"status": WAITING, "last_writer": "operator"}, row)


def test_operators_and_channels_from_config_are_idempotent(desk: Desk) -> None:
    again = desk.store.ensure_operator("Anna", "supervisor")
    assert again.id == desk.anna and again.role == "supervisor"
    with pytest.raises(RuleViolation, match="role"):
        desk.store.ensure_operator("X", "admin")
    desk.say(desk.web, "1")
    with pytest.raises(RuleViolation, match="already has tasks"):
        desk.store.ensure_channel("telegram", "web")
    assert desk.store.get_channel(desk.web).kind == "webchat"
