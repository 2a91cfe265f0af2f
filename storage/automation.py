"""The automation hooks the desk's standard scenarios rely on, and rule conditions.

* The client wrote → the task goes to "in progress" (unless nobody has taken it yet).
* The operator replied → the task goes to "waiting for the client".
* A flat condition match over a task's facts (channel, status, who wrote last,
  additional data...).

These two status hooks are built in: the store runs them inside its own writes (the
fast ingest path in SQL too), so they are always on and not rules. Everything else a
desk automates — triggers, conditions, actions, timers — is the rules engine in
:mod:`storage.rules` (``docs/rules.md``).
"""

from __future__ import annotations

from typing import Any

from storage.models import DONE, IN_PROGRESS, INBOUND, NEW, OUTBOUND, WAITING
from storage.rows import TaskRow


def status_after_client_message(status: str) -> str:
    if status in (WAITING, DONE):
        return IN_PROGRESS
    return status


def status_after_operator_reply(status: str) -> str:
    if status in (NEW, IN_PROGRESS, DONE):
        return WAITING
    return status


def last_writer(task: TaskRow) -> str:
    return {INBOUND: "client", OUTBOUND: "operator"}.get(task.last_kind, "robot")


def task_facts(task: TaskRow) -> dict[str, Any]:
    """What a rule condition can name: ``channel``, ``status``, ``last_writer``,
    ``assignee``, and ``additional_data.<key>`` for each key of the additional data."""
    facts: dict[str, Any] = {
        "channel": task.channel_kind,
        "channel_name": task.channel_name,
        "status": task.status,
        "last_writer": last_writer(task),
        "assignee": task.assignee_name,
    }
    for key, value in task.additional_data.items():
        facts[f"additional_data.{key}"] = value
    return facts


def matches(conditions: dict[str, Any], task: TaskRow) -> bool:
    """True when every condition holds. A list value means "any of these"."""
    facts = task_facts(task)
    for key, wanted in conditions.items():
        value = facts.get(key)
        if isinstance(wanted, list | tuple | set):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True
