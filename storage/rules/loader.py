"""Reading a rules file: YAML → :class:`RuleSet`, every error placed at a line and column.

The YAML is composed into nodes first, so each path in the document (``rules → 0 →
when → no_first_reply → minutes``) knows where it was written; a pydantic error's
location is looked up there (the longest known prefix of its path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rules.model import Rule, RulesFile
from storage.working_hours import Schedule, zone

Path_ = tuple[str | int, ...]


class RulesError(SwitchboardError):
    """A rules file that cannot be used; names the file, line and column of the problem."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None,
                 source: str = "") -> None:
        self.problem, self.line, self.column, self.source = problem, line, column, source
        where = source or _("rules")
        if line is not None:
            where = _("{file}, line {line}, column {column}").format(
                file=where, line=line, column=column)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file, with its schedules built."""

    rules: tuple[Rule, ...]
    schedules: dict[str, Schedule] = field(default_factory=dict)
    source: str = ""

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def positions(node: yaml.Node, path: Path_ = ()) -> dict[Path_, tuple[int, int]]:
    """Every path of the document → (line, column), 1-based; a mapping key's own position."""
    found: dict[Path_, tuple[int, int]] = {path: (node.start_mark.line + 1,
                                                  node.start_mark.column + 1)}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            sub = positions(value, (*path, name))
            sub[(*path, name)] = (key.start_mark.line + 1, key.start_mark.column + 1)
            found.update(sub)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(positions(item, (*path, index)))
    return found


def _locate(where: dict[Path_, tuple[int, int]], path: Path_) -> tuple[int | None, int | None]:
    for end in range(len(path), -1, -1):
        if path[:end] in where:
            return where[path[:end]]
    return None, None


def _clean(loc: tuple[Any, ...]) -> Path_:
    """pydantic's location without the union/function markers it inserts."""
    return tuple(p for p in loc if isinstance(p, int) or (
        isinstance(p, str) and not p.startswith("function-") and p not in ("str", "list[str]")))


def parse_rules(text: str, source: str = "") -> RuleSet:
    """Validate a rules document; raises :class:`RulesError` at the first problem."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise RulesError(_("not valid YAML: {problem}").format(problem=err.problem or err),
                         mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                         source) from err
    finally:
        loader.dispose()
    where = positions(node) if node is not None else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line, column = _locate(where, ())
        raise RulesError(_("the file must be a mapping with a 'rules' list"), line, column, source)
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = _clean(first["loc"])
        line, column = _locate(where, path)
        dotted = ".".join(str(p) for p in path) or _("file")
        message = first["msg"].removeprefix("Value error, ")
        raise RulesError(_("{where}: {problem}").format(where=dotted, problem=message),
                         line, column, source) from err
    return _checked(parsed, where, source)


def _checked(parsed: RulesFile, where: dict[Path_, tuple[int, int]], source: str) -> RuleSet:
    """Cross-references pydantic cannot see: unique ids, schedules that exist."""
    def fail(problem: str, path: Path_) -> RulesError:
        line, column = _locate(where, path)
        return RulesError(problem, line, column, source)

    seen: set[str] = set()
    for n, rule in enumerate(parsed.rules):
        if rule.id in seen:
            raise fail(_("rule id {id!r} is used twice").format(id=rule.id), ("rules", n, "id"))
        seen.add(rule.id)
        for key in ("working_hours", "outside_working_hours"):
            name = getattr(rule.if_, key)
            if name is not None and name not in parsed.schedules:
                raise fail(_("unknown schedule {name!r}").format(name=name),
                           ("rules", n, "if", key))
        at = rule.when.schedule
        if at is not None and at.schedule is not None and at.schedule not in parsed.schedules:
            raise fail(_("unknown schedule {name!r}").format(name=at.schedule),
                       ("rules", n, "when", "schedule", "schedule"))
        if at is not None and at.schedule is not None and at.timezone is not None:
            raise fail(_("give a timezone or a schedule, not both"),
                       ("rules", n, "when", "schedule"))
    schedules = {name: spec.build() for name, spec in parsed.schedules.items()}
    return RuleSet(tuple(parsed.rules), schedules, source)


def load_rules(path: str | Path) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RulesError(_("cannot read the file: {error}").format(
            error=err.strerror or err), source=str(path)) from err
    return parse_rules(text, str(path))


def default_rules_text() -> str:
    """The shipped default rules (package data)."""
    return resources.files("storage.rules").joinpath("defaults.yaml").read_text(encoding="utf-8")


def default_rules() -> RuleSet:
    return parse_rules(default_rules_text(), "defaults.yaml")


RULES_ENV = "SWITCHBOARD_RULES"


def rules_path(path: str | Path | None = None) -> Path | None:
    """The rules file to use: ``path``, else ``$SWITCHBOARD_RULES``, else None (defaults)."""
    if path:
        return Path(path)
    from_env = os.environ.get(RULES_ENV, "").strip()
    return Path(from_env) if from_env else None


def resolve_rules(path: str | Path | None = None) -> RuleSet:
    """The rules this desk runs: the given file, the environment's, or the shipped defaults."""
    chosen = rules_path(path)
    return load_rules(chosen) if chosen is not None else default_rules()


def schedule_zone(ruleset: RuleSet, tz: str | None, schedule: str | None) -> Any:
    """The time zone of a ``schedule`` trigger: its own, its schedule's, or UTC."""
    if schedule is not None:
        return ruleset.schedules[schedule].tz
    return zone(tz or "UTC")


def configured_rules(configured: str | Path | None, base: Path | None = None) -> RuleSet:
    """The rules a desk runs: ``$SWITCHBOARD_RULES`` when set, else the configuration's
    ``rules:`` — a path (relative to ``base``, the configuration file's folder),
    ``defaults`` for the shipped file, or None for no rules. The automation runner and
    the console's explanation use this one choice."""
    chosen = rules_path(None)
    if chosen is not None:
        return load_rules(chosen)
    if configured is None:
        return RuleSet(rules=())
    if str(configured) == "defaults":
        return default_rules()
    path = Path(configured).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return load_rules(path)
