"""Automation rules: a YAML file of trigger → conditions → actions (``docs/rules.md``).

* :mod:`.model` — the file's pydantic models; :mod:`.loader` — YAML with line/column errors;
* :mod:`.triggers`, :mod:`.conditions`, :mod:`.actions` — the three parts of a rule;
* :mod:`.engine` — :class:`Automation`: events and due timers → firings, exactly once;
* :mod:`.log` — the firing log and notifications; :mod:`.explain` — the dry run.
"""

from storage.rules.engine import Automation
from storage.rules.explain import Explanation, explain, explain_lines, history_lines
from storage.rules.loader import (
    RulesError,
    RuleSet,
    default_rules,
    default_rules_text,
    load_rules,
    parse_rules,
    resolve_rules,
    rules_path,
)
from storage.rules.log import (
    FiringRow,
    NotificationRow,
    firings_for,
    mark_notifications_seen,
    notifications_for,
)

__all__ = [
    "Automation", "Explanation", "FiringRow", "NotificationRow", "RuleSet", "RulesError",
    "default_rules", "default_rules_text", "explain", "explain_lines", "firings_for",
    "history_lines", "load_rules", "mark_notifications_seen", "notifications_for", "parse_rules",
    "resolve_rules", "rules_path",
]
