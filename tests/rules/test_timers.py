"""Timer triggers from stored times, with a clock the test moves: each fires once."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import COMPLETED, DONE, OUTBOUND, WAITING, to_micros
from storage.rules import (
    explain,
    explain_lines,
    firings_for,
    mark_notifications_seen,
    notifications_for,
)
from tests.rules.conftest import Rig

NOT_TAKEN = """
rules:
  - id: not-taken
    name: Not taken
    when:
      no_first_reply: {minutes: 30}
    then:
      - notify: supervisors
      - notify: {operator: Anna, text: "Task #{{task.number}} waits."}
"""


def test_no_first_reply_fires_once_after_the_delay(rig: Rig) -> None:
    auto = rig.automation(NOT_TAKEN)
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    created = rig.store.get_task(task.id).created_at
    rig.clock.now = created
    assert (auto.next_due() - created).total_seconds() == 30 * 60
    rig.clock.advance(minutes=29)
    assert auto.run_due() == []
    rig.clock.advance(minutes=2)
    fired = auto.run_due()
    assert [(f.rule_id, f.task_id, f.occurrence) for f in fired] == [
        ("not-taken", task.id, to_micros(created))]
    assert auto.run_due() == []  # once
    assert auto.next_due() is None
    maria = notifications_for(rig.store, rig.desk.maria)
    anna = notifications_for(rig.store, rig.desk.anna)
    boris = notifications_for(rig.store, rig.desk.boris)
    assert [n.text for n in maria] == [f"Rule 'Not taken': task #{task.number} needs attention."]
    assert [n.text for n in anna] == [f"Task #{task.number} waits."]
    assert boris == []
    mark_notifications_seen(rig.store, [n.id for n in maria])
    assert notifications_for(rig.store, rig.desk.maria) == []
    assert [n.seen for n in notifications_for(rig.store, rig.desk.maria, unseen_only=False)] == [
        True]


def test_a_reply_in_time_stops_the_timer(rig: Rig) -> None:
    auto = rig.automation(NOT_TAKEN)
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    rig.clock.now = rig.store.get_task(task.id).created_at
    rig.store.reply(task.id, rig.desk.anna, "Hi!")
    assert auto.next_due() is None
    rig.clock.advance(hours=2)
    assert auto.run_due() == [] and firings_for(rig.store, task.id) == []


def test_in_status_counts_from_the_status_change(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: done-complete
    when:
      in_status: {status: done, hours: 72}
    then:
      - complete: {}
""")
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    rig.store.set_status([task.id], DONE, rig.desk.anna)
    changed = [a.at for a in rig.store.audit_for(task.id) if a.action == "status"][-1]
    rig.clock.now = changed
    assert (auto.next_due() - changed).total_seconds() == 72 * 3600
    rig.clock.advance(hours=71)
    assert auto.run_due() == []
    rig.clock.advance(hours=2)
    assert [f.rule_id for f in auto.run_due()] == ["done-complete"]
    assert rig.store.get_task(task.id).status == COMPLETED
    assert auto.run_due() == []


def test_no_client_answer_completes_with_a_closing_message(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: waiting-3-days
    when:
      no_client_answer: {days: 3}
    if: {status: waiting}
    then:
      - complete: {text: "We are closing this conversation, {{contact.name}}."}
""")
    task = rig.desk.say(rig.desk.web, "c1", "hello", display_name="Olga").task
    other = rig.desk.say(rig.desk.web, "c2", "hello").task
    reply = rig.store.reply(task.id, rig.desk.anna, "Here is the answer.")
    rig.store.reply(other.id, rig.desk.anna, "Here is yours.")
    answered = rig.desk.say(rig.desk.web, "c2", "thanks, one more thing", minute=24 * 60 + 5)
    assert answered.task.id == other.id
    rig.clock.now = reply.created_at
    rig.clock.advance(days=3, minutes=-1)
    assert auto.run_due() == []
    rig.clock.advance(minutes=2)
    assert [(f.rule_id, f.task_id) for f in auto.run_due()] == [("waiting-3-days", task.id)]
    after = rig.store.get_task(task.id)
    assert after.status == COMPLETED
    texts = [m.text for m in rig.store.thread_before(task.id, None, 50).items if m.kind == OUTBOUND]
    assert texts[-1] == "We are closing this conversation, Olga."
    assert rig.store.get_task(other.id).status != COMPLETED


def test_a_timer_whose_conditions_fail_is_skipped_once_with_its_reason(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: waiting-only
    when:
      no_first_reply: {minutes: 10}
    if: {status: waiting}
    then: [{note: never}]
""")
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    rig.clock.now = rig.store.get_task(task.id).created_at
    rig.clock.advance(minutes=11)
    skipped = auto.run_due()
    assert [f.outcome for f in skipped] == ["skipped"]
    assert any("status is new" in why for why in skipped[0].why)
    assert auto.run_due() == [] and auto.next_due() is None
    assert [f.outcome for f in firings_for(rig.store, task.id)] == ["skipped"]


def test_schedule_fires_at_the_local_time_for_existing_tasks(rig: Rig) -> None:
    auto = rig.automation("""
rules:
  - id: morning
    when:
      schedule: {at: "09:00", days: mon-fri, timezone: Europe/Moscow}
    if: {status: [new, in_progress]}
    then:
      - note: "Good morning: this task is still open."
""")
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    created = rig.store.get_task(task.id).created_at
    # The next working day's 09:00 in Moscow is 06:00 UTC.
    day = created.date().toordinal() + 1
    while datetime.fromordinal(day).weekday() >= 5:
        day += 1
    slot = datetime.fromordinal(day).replace(hour=6, tzinfo=UTC)
    rig.clock.now = slot.replace(hour=5, minute=59)
    assert auto.run_due() == []
    assert auto.next_due() == slot
    rig.clock.now = slot.replace(minute=5)
    assert [(f.rule_id, f.occurrence) for f in auto.run_due()] == [("morning", to_micros(slot))]
    assert auto.run_due() == []
    rig.clock.now = slot.replace(hour=8)  # beyond the 60 minutes of catch-up: nothing new
    assert auto.run_due() == []


def test_dry_run_says_why_and_why_not(rig: Rig) -> None:
    auto = rig.automation(NOT_TAKEN + """
  - id: waits
    when:
      no_client_answer: {days: 3}
    then: [{set_status: waiting}]
  - id: greet
    enabled: false
    when: client_message
    then: [{note: hi}]
""")
    task = rig.desk.say(rig.desk.web, "c1", "hello").task
    rig.clock.now = rig.store.get_task(task.id).created_at
    rig.clock.advance(minutes=40)
    lines = explain_lines(explain(auto, task.id))
    assert lines[0] == "Not taken [not-taken]: WOULD ACT"
    assert "no first reply 30 minutes" in lines[1]
    assert any(line.startswith("waits [waits]: would not act") for line in lines)
    assert any("does not apply" in line for line in lines)
    assert "greet [greet]: disabled" in lines
    auto.run_due()
    lines = explain_lines(explain(auto, task.id))
    assert lines[0].startswith("Not taken [not-taken]: already fired at ")
    assert rig.store.get_task(task.id).status != WAITING  # the dry run changed nothing
