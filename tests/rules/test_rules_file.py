"""The rules file: the shipped defaults, and every error placed at its line and column."""

from __future__ import annotations

import pytest

from storage.rules import RulesError, default_rules, default_rules_text, parse_rules


def error_of(text: str) -> RulesError:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return caught.value


def test_defaults_are_valid_and_each_can_be_switched_off() -> None:
    rules = default_rules()
    ids = [r.id for r in rules.rules]
    assert {"out-of-hours-reply", "not-taken-30-minutes", "waiting-3-days-complete"} <= set(ids)
    assert {r.id for r in rules.enabled} >= {"out-of-hours-reply", "not-taken-30-minutes",
                                             "waiting-3-days-complete"}
    text = default_rules_text().replace("enabled: true", "enabled: false")
    assert parse_rules(text).enabled == ()
    assert rules.rule("not-taken-30-minutes").when.no_first_reply.minutes == 30
    assert rules.rule("waiting-3-days-complete").when.no_client_answer.days == 3


def test_an_unknown_key_is_named_at_its_line_and_column() -> None:
    err = error_of("rules:\n  - id: a\n    when: client_message\n    then:\n"
                   "      - note: hi\n    colour: red\n")
    assert (err.line, err.column) == (6, 5)
    assert "colour" in str(err) and str(err).startswith("rules.yaml, line 6, column 5: ")


def test_a_bad_value_deep_inside_is_placed_exactly() -> None:
    err = error_of("rules:\n  - id: a\n    when:\n      in_status: {status: waiting, hours: -1}\n"
                   "    then: [{note: x}]\n")
    assert (err.line, err.column) == (4, 36)
    err = error_of("rules:\n  - id: a\n    when: client_message\n    then:\n"
                   "      - note: ok\n      - set_status: closed\n")
    assert (err.line, err.column) == (6, 9) and "set_status" in err.problem


def test_yaml_syntax_errors_have_a_position() -> None:
    err = error_of("rules:\n  - id: a\n    when: [client_message\n")
    assert err.line is not None and err.line >= 3 and "not valid YAML" in err.problem


@pytest.mark.parametrize(("text", "line", "words"), [
    ("rules:\n  - id: a\n    when: {client_message: {}, task_created: {}}\n    then: [{note: x}]\n",
     3, "exactly one"),
    ("rules:\n  - id: a\n    when: client_message\n    then: [{note: x, assign: y}]\n",
     4, "exactly one"),
    ("rules:\n  - id: a\n    when: client_message\n    if: {working_hours: office}\n"
     "    then: [{note: x}]\n", 4, "unknown schedule"),
    ("rules:\n  - id: a\n    when: client_message\n    then: [{note: x}]\n"
     "  - id: a\n    when: task_created\n    then: [{note: y}]\n", 5, "used twice"),
    ("schedules:\n  office:\n    timezone: Mars/Base\n    week: {mon: '09:00-18:00'}\n", 3,
     "time zone"),
    ("rules:\n  - id: a\n    when: client_message\n    then: []\n", 4, "at least 1"),
    ("rules:\n  - id: a\n    when:\n      schedule: {at: '25:00'}\n    then: [{note: x}]\n", 4,
     "time of day"),
])
def test_semantic_errors(text: str, line: int, words: str) -> None:
    err = error_of(text)
    assert err.line == line and words in str(err)


def test_shorthands() -> None:
    rules = parse_rules("""
rules:
  - id: a
    when: client_message
    if: {channel: telegram, data: {utm_source: 42}}
    then:
      - reply: Greeting
      - notify: supervisors
      - notify: Anna
      - unassign
      - assign_competitively: {among: [Anna]}
      - complete: true
""")
    rule = rules.rules[0]
    assert rule.if_.channel == ["telegram"] and rule.if_.data["utm_source"].equals == "42"
    assert [a.kind for a in rule.then] == ["reply", "notify", "notify", "unassign",
                                           "assign_competitively", "complete"]
    assert rule.then[0].reply.quick_reply == "Greeting"
    assert rule.then[2].notify.operator == "Anna"
