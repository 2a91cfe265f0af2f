"""Event triggers and the actions they run, on both backends, with a controlled clock."""

from __future__ import annotations

from storage import events as ev
from storage.models import (
    COMPLETED,
    EVENT,
    IN_PROGRESS,
    NEW,
    NOTE,
    OUTBOUND,
    QUEUED,
    WAITING,
)
from storage.rules import firings_for
from tests.rules.conftest import Rig, stored

GREETING = """
rules:
  - id: price-answer
    name: Price question
    when: client_message
    if:
      channel: telegram
      text_contains: [price, цена]
    then:
      - reply: {quick_reply: Prices, text: "fallback"}
"""


def thread_kinds(rig: Rig, task_id: int) -> list[tuple[str, str]]:
    page = rig.store.thread_before(task_id, None, 100)
    return [(m.kind, m.text) for m in page.items]


def test_client_message_replies_with_the_quick_reply_once(rig: Rig) -> None:
    rig.store.add_quick_reply("Prices", "Hello {{contact.name}}, our prices are on the site.")
    auto = rig.automation(GREETING)
    result = rig.desk.say(rig.desk.telegram, "c1", "What is the ЦЕНА?", display_name="Ivan")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, result.message.id))
    assert [f.rule_id for f in fired] == ["price-answer"]
    assert fired[0].occurrence == result.message.id
    thread = rig.store.thread_before(result.task.id, None, 100).items
    robot = [m for m in thread if m.kind == OUTBOUND]
    assert [m.text for m in robot] == ["Hello Ivan, our prices are on the site."]
    assert robot[0].delivery_state == QUEUED and robot[0].meta["rule"] == "price-answer"
    assert robot[0].author_operator_id is None
    # The task shows which rule acted and why: a system event and an audit entry.
    events = [m for m in thread if m.kind == EVENT and m.meta.get("event") == "rule"]
    assert len(events) == 1 and "Price question" in events[0].text and "ЦЕНА" not in events[0].text
    audit = [a for a in rig.store.audit_for(result.task.id) if a.action == "rule_fired"]
    assert audit[0].detail["rule"] == "price-answer"
    assert any("цена" in why for why in audit[0].detail["why"])
    # The robot's reply is not the first reply and does not move the status.
    task = rig.store.get_task(result.task.id)
    assert task.first_reply_at is None and task.status == NEW
    # The same event handed in again (a second runner on PostgreSQL gets it too): no repeat.
    assert auto.handle_event(ev.Event(ev.MESSAGE_STORED, result.task.id, result.message.id,
                                      data={"message_kind": "inbound"})) == []
    assert len([f for f in firings_for(rig.store, result.task.id)]) == 1


def test_conditions_that_fail_do_nothing_and_log_nothing(rig: Rig) -> None:
    auto = rig.automation(GREETING)
    web = rig.desk.say(rig.desk.web, "w1", "price please")  # wrong channel
    tg = rig.desk.say(rig.desk.telegram, "t1", "hello")  # no keyword
    assert rig.feed(auto, stored(ev.MESSAGE_STORED, tg.message.id)) == []
    for task_id in (web.task.id, tg.task.id):
        assert firings_for(rig.store, task_id) == []
        assert all(kind != OUTBOUND for kind, _text in thread_kinds(rig, task_id))


def test_missing_quick_reply_uses_the_fallback_text(rig: Rig) -> None:
    auto = rig.automation(GREETING)
    result = rig.desk.say(rig.desk.telegram, "c1", "price?")
    rig.feed(auto, stored(ev.MESSAGE_STORED, result.message.id))
    assert (OUTBOUND, "fallback") in thread_kinds(rig, result.task.id)


def test_operator_reply_sets_status_but_robot_replies_trigger_nothing(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: after-reply
    when: operator_reply
    then:
      - set_status: done
  - id: robot-echo
    when: task_created
    then:
      - reply: {text: "We got your message."}
""")
    result = rig.desk.say(rig.desk.web, "c1", "hi")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, result.message.id))
    assert [f.rule_id for f in fired] == ["robot-echo"]
    robot_msg = [m for m in rig.store.thread_before(result.task.id, None, 50).items
                 if m.kind == OUTBOUND][0]
    assert rig.feed(auto, stored(ev.MESSAGE_STORED, robot_msg.id)) == []  # robot: no trigger
    assert rig.store.get_task(result.task.id).status == NEW
    reply = rig.store.reply(result.task.id, rig.desk.anna, "Hello!")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, reply.id))
    assert [(f.rule_id, f.occurrence) for f in fired] == [("after-reply", reply.id)]
    assert rig.store.get_task(result.task.id).status == "done"


def test_task_created_assigns_and_merged_adds_a_note(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: to-anna
    when: task_created
    if: {channel: web}
    then:
      - assign: Anna
  - id: merged-note
    when: task_merged
    then:
      - note: "Merged: check the history of {{contact.name}}."
""")
    a = rig.desk.say(rig.desk.web, "c1", "first", display_name="Olga")
    b = rig.desk.say(rig.desk.telegram, "c2", "second")
    fired = rig.feed(auto, lambda e: e.kind == ev.TASK_CREATED and e.task_id == b.task.id)
    assert [(f.rule_id, f.task_id) for f in fired] == [("to-anna", a.task.id)]
    task = rig.store.get_task(a.task.id)
    assert task.assignee_id == rig.desk.anna and task.status == IN_PROGRESS
    rig.store.merge_tasks(a.task.id, [b.task.id], rig.desk.maria, different_clients_ok=True)
    fired = rig.feed(auto, stored(ev.TASK_MERGED))
    assert [(f.rule_id, f.occurrence) for f in fired] == [("merged-note", b.task.id)]
    notes = [t for k, t in thread_kinds(rig, a.task.id) if k == NOTE]
    assert notes == ["Merged: check the history of Olga."]


def test_unassign_and_competitive_assignment(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: fair
    when: client_message
    if: {text_contains: fair}
    then:
      - unassign
      - assign_competitively
""")
    from storage.availability import set_available

    carol = rig.store.ensure_operator("Carol", "operator").id  # away: never chosen
    for operator in (rig.desk.anna, rig.desk.boris):
        set_available(rig.store, operator, True)
    busy = [rig.desk.say(rig.desk.web, f"b{n}", "hi").task.id for n in range(2)]
    rig.store.assign(busy, rig.desk.anna, rig.desk.maria)  # Anna has two open tasks
    boris_task = rig.desk.say(rig.desk.web, "b9", "hi").task.id
    rig.store.assign([boris_task], rig.desk.boris, rig.desk.maria)  # Boris one, Carol none
    result = rig.desk.say(rig.desk.web, "c9", "hi")
    rig.store.assign([result.task.id], rig.desk.anna, rig.desk.maria)
    msg = rig.desk.say(rig.desk.web, "c9", "be fair")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, msg.message.id))
    assert [f.rule_id for f in fired] == ["fair"]
    assert rig.store.get_task(result.task.id).assignee_id == rig.desk.boris
    # Carol had the fewest but is away; with a limit of one open task Boris is full too.
    from storage.availability import set_open_limit

    set_open_limit(rig.store, rig.desk.boris, 1, rig.desk.maria)
    set_available(rig.store, carol, False)
    other = rig.desk.say(rig.desk.web, "c10", "fair please")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, other.message.id))
    assert rig.store.get_task(other.task.id).assignee_id == rig.desk.anna
    audit = [a.action for a in rig.store.audit_for(result.task.id)]
    assert audit[-3:] == ["assigned", "assigned", "rule_fired"]


def test_a_failing_action_rolls_back_and_is_logged_once(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: broken
    when: client_message
    then:
      - note: "this note must not survive"
      - assign: Nobody-by-this-name
""")
    msg = rig.desk.say(rig.desk.web, "c1", "hi")
    fired = rig.feed(auto, stored(ev.MESSAGE_STORED, msg.message.id))
    assert [(f.outcome, f.why[-1]) for f in fired] == [
        ("failed", "No operator is named 'Nobody-by-this-name'.")]
    assert all(kind != NOTE for kind, _t in thread_kinds(rig, msg.task.id))
    assert [a.action for a in rig.store.audit_for(msg.task.id)][-1] == "rule_failed"
    again = auto.handle_event(ev.Event(ev.MESSAGE_STORED, msg.task.id, msg.message.id,
                                       data={"message_kind": "inbound"}))
    assert again == [] and len(firings_for(rig.store, msg.task.id)) == 1


def test_disabled_rules_never_act(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: switched-off
    enabled: false
    when: client_message
    then: [{set_status: waiting}]
""")
    msg = rig.desk.say(rig.desk.web, "c1", "hi")
    assert rig.feed(auto, stored(ev.MESSAGE_STORED, msg.message.id)) == []
    assert rig.store.get_task(msg.task.id).status not in (WAITING, COMPLETED)
