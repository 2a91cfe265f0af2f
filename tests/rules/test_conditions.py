"""Each condition, on real tasks: assignee, who wrote last, working hours and the
additional description data (utm_source, page, language)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import events as ev
from storage.rules import explain
from tests.rules.conftest import Rig, stored

DATA_RULES = """
rules:
  - id: google-pricing-ru
    when: client_message
    if:
      data:
        utm_source: google
        page: {contains: /pricing}
        language: {equals: [ru, uk]}
    then: [{note: "Google pricing visitor"}]
  - id: no-utm
    when: client_message
    if:
      data:
        utm_source: {exists: false}
    then: [{note: "No campaign"}]
"""


def notes(rig: Rig, task_id: int) -> list[str]:
    return [m.text for m in rig.store.thread_before(task_id, None, 50).items if m.kind == "note"]


def test_additional_data_exists_equals_contains(rig: Rig) -> None:
    auto = rig.automation(DATA_RULES)
    hit = rig.desk.say(rig.desk.web, "v1", "hi", system_data={
        "utm_source": "Google", "page": "https://shop.example/pricing?x=1", "language": "ru"})
    rig.feed(auto, stored(ev.MESSAGE_STORED, hit.message.id))
    assert notes(rig, hit.task.id) == ["Google pricing visitor"]
    wrong_lang = rig.desk.say(rig.desk.web, "v2", "hi", system_data={
        "utm_source": "google", "page": "/pricing", "language": "en"})
    rig.feed(auto, stored(ev.MESSAGE_STORED, wrong_lang.message.id))
    assert notes(rig, wrong_lang.task.id) == []
    why = {e.rule_id: e for e in explain(auto, wrong_lang.task.id)}["google-pricing-ru"]
    assert [c.ok for c in why.checks] == [True, True, False]
    assert "language is 'en' (wanted ru | uk)" in why.checks[2].why
    bare = rig.desk.say(rig.desk.web, "v3", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, bare.message.id))
    assert notes(rig, bare.task.id) == ["No campaign"]


def test_assignee_and_last_writer(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: anna-client
    when: client_message
    if: {assignee: Anna, last_writer: client}
    then: [{note: "for Anna"}]
  - id: unassigned
    when: client_message
    if: {assignee: none}
    then: [{note: "nobody has it"}]
  - id: anyone
    when: operator_reply
    if: {assignee: any, last_writer: operator, status: waiting}
    then: [{note: "replied"}]
""")
    first = rig.desk.say(rig.desk.web, "c1", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, first.message.id))
    assert notes(rig, first.task.id) == ["nobody has it"]
    rig.store.assign([first.task.id], rig.desk.anna, rig.desk.maria)
    again = rig.desk.say(rig.desk.web, "c1", "hello?")
    rig.feed(auto, stored(ev.MESSAGE_STORED, again.message.id))
    assert notes(rig, first.task.id) == ["nobody has it", "for Anna"]
    reply = rig.store.reply(first.task.id, rig.desk.anna, "Yes?")
    rig.feed(auto, stored(ev.MESSAGE_STORED, reply.id))
    assert notes(rig, first.task.id)[-1] == "replied"


def test_working_hours_condition_uses_the_clock_and_the_zone(rig: Rig) -> None:
    auto = rig.automation("""
schedules:
  moscow:
    timezone: Europe/Moscow
    week: {mon-fri: "09:00-18:00"}
    holidays: ["2027-01-11"]
rules:
  - id: closed
    when: client_message
    if: {outside_working_hours: moscow}
    then: [{reply: {text: "We are closed."}}]
  - id: open
    when: client_message
    if: {working_hours: moscow}
    then: [{note: "open"}]
""")
    # Tuesday 2027-01-12, 06:30 UTC = 09:30 in Moscow: open.
    rig.clock.now = datetime(2027, 1, 12, 6, 30, tzinfo=UTC)
    a = rig.desk.say(rig.desk.web, "c1", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, a.message.id))
    assert notes(rig, a.task.id) == ["open"]
    # Tuesday 05:30 UTC = 08:30 in Moscow: closed, although 05:30 is "morning" in UTC too.
    rig.clock.now = datetime(2027, 1, 12, 5, 30, tzinfo=UTC)
    b = rig.desk.say(rig.desk.web, "c2", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, b.message.id))
    texts = [m.text for m in rig.store.thread_before(b.task.id, None, 50).items
             if m.kind == "outbound"]
    assert texts == ["We are closed."] and notes(rig, b.task.id) == []
    # Monday 2027-01-11 is a holiday: closed at 12:00 local.
    rig.clock.now = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    c = rig.desk.say(rig.desk.web, "c3", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, c.message.id))
    assert notes(rig, c.task.id) == []
    why = {e.rule_id: e for e in explain(auto, c.task.id)}["closed"]
    assert why.checks[0].why == "Mon 2027-01-11 12:00 Europe/Moscow is a holiday"


def test_last_writer_robot_after_a_rule_replied(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: greet
    when: task_created
    then: [{reply: {text: "Hello from the robot."}}]
  - id: robot-last
    when: client_message
    if: {last_writer: robot}
    then: [{note: "x"}]
""")
    first = rig.desk.say(rig.desk.web, "c1", "hi")
    rig.feed(auto, stored(ev.MESSAGE_STORED, first.message.id))
    why = {e.rule_id: e for e in explain(auto, first.task.id)}["robot-last"]
    assert [(c.name, c.ok) for c in why.checks] == [("last_writer", True)]
    assert "the last to write was the robot" in why.checks[0].why
    rig.desk.say(rig.desk.web, "c1", "and again", minute=24 * 60 + 5)
    why = {e.rule_id: e for e in explain(auto, first.task.id)}["robot-last"]
    assert [(c.name, c.ok) for c in why.checks] == [("last_writer", False)]
