"""The rules file as pydantic models: unknown keys are errors, every value is checked.

A rule is three parts — ``when`` (one trigger), ``if`` (conditions, all must hold) and
``then`` (actions, in order). ``docs/rules.md`` is the reference with examples.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.models import STATUSES
from storage.working_hours import Schedule, ScheduleError, parse_clock, parse_days, zone

Status = Literal["new", "in_progress", "waiting", "done", "completed", "cancelled"]
Writer = Literal["client", "operator", "robot"]
RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_key(value: Any, names: tuple[str, ...]) -> Any:
    """``"client_message"`` → ``{"client_message": {}}``; ``{key: null}`` → ``{key: {}}``."""
    if isinstance(value, str) and value in names:
        return {value: {}}
    if isinstance(value, dict):
        return {k: ({} if v is None and k in names else v) for k, v in value.items()}
    return value


def _exactly_one(model: BaseModel, what: str) -> None:
    chosen = [name for name in type(model).model_fields if getattr(model, name) is not None]
    if len(chosen) != 1:
        names = ", ".join(type(model).model_fields)
        raise ValueError(f"{what} needs exactly one of: {names}")


# ---- schedules ---------------------------------------------------------------------------
class ScheduleSpec(Strict):
    timezone: str = "UTC"
    week: dict[str, str]
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except ScheduleError as err:
            raise ValueError(str(err)) from err
        return value

    @field_validator("week")
    @classmethod
    def _week(cls, value: dict[str, str]) -> dict[str, str]:
        try:
            Schedule.build("UTC", value)
        except ScheduleError as err:
            raise ValueError(str(err)) from err
        return value

    def build(self) -> Schedule:
        return Schedule.build(self.timezone, self.week, self.holidays)


# ---- triggers ----------------------------------------------------------------------------
class Nothing(Strict):
    """A trigger without parameters."""


class AfterMinutes(Strict):
    minutes: float = Field(gt=0)


class AfterDays(Strict):
    days: float = Field(gt=0)


class InStatus(Strict):
    status: Status
    hours: float = Field(gt=0)


class At(Strict):
    at: str
    days: str = "daily"
    timezone: str | None = None
    schedule: str | None = None  # take the time zone of this schedule
    catch_up_minutes: float = Field(default=60, ge=0)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        try:
            if parse_clock(value) >= 24 * 60:
                raise ScheduleError("24:00")
        except ScheduleError as err:
            raise ValueError(f"{value!r} is not a time of day like 09:00") from err
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        try:
            parse_days(value)
        except ScheduleError as err:
            raise ValueError(str(err)) from err
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except ScheduleError as err:
                raise ValueError(str(err)) from err
        return value


TRIGGERS = ("client_message", "operator_reply", "task_created", "task_merged",
            "no_first_reply", "in_status", "no_client_answer", "schedule")
EVENT_TRIGGERS = ("client_message", "operator_reply", "task_created", "task_merged")


class When(Strict):
    client_message: Nothing | None = None
    operator_reply: Nothing | None = None
    task_created: Nothing | None = None
    task_merged: Nothing | None = None
    no_first_reply: AfterMinutes | None = None
    in_status: InStatus | None = None
    no_client_answer: AfterDays | None = None
    schedule: At | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _one_key(value, TRIGGERS)

    @model_validator(mode="after")
    def _one(self) -> When:
        _exactly_one(self, "a trigger")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in TRIGGERS if getattr(self, name) is not None)

    @property
    def params(self) -> Any:
        return getattr(self, self.kind)


# ---- conditions --------------------------------------------------------------------------
class DataTest(Strict):
    exists: bool | None = None
    equals: str | list[str] | None = None
    contains: str | None = None

    @field_validator("equals", mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if isinstance(value, int | float | bool):
            return str(value)
        if isinstance(value, list):
            return [str(v) if isinstance(v, int | float | bool) else v for v in value]
        return value

    @model_validator(mode="after")
    def _some(self) -> DataTest:
        if self.exists is None and self.equals is None and self.contains is None:
            raise ValueError("a data condition needs exists, equals or contains")
        return self


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Conditions(Strict):
    channel: list[str] | None = None
    status: list[Status] | None = None
    assignee: list[str] | None = None  # operator names; "none": unassigned; "any": assigned
    text_contains: list[str] | None = None
    working_hours: str | None = None  # a schedule's name: the desk is open
    outside_working_hours: str | None = None  # a schedule's name: the desk is closed
    last_writer: list[Writer] | None = None
    data: dict[str, DataTest] | None = None

    @field_validator("channel", "status", "assignee", "text_contains", "last_writer",
                     mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return _listed(value)

    @field_validator("data", mode="before")
    @classmethod
    def _data_shorthand(cls, value: Any) -> Any:
        """``data: {utm_source: google}`` means equals; ``{page: {contains: x}}`` a test."""
        if isinstance(value, dict):
            return {k: (v if isinstance(v, dict) else {"equals": v}) for k, v in value.items()}
        return value


# ---- actions -----------------------------------------------------------------------------
class ReplySpec(Strict):
    quick_reply: str | None = None  # a quick reply's title
    text: str | None = None  # the text itself, or the fallback when no reply has that title

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"quick_reply": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _some(self) -> ReplySpec:
        if not (self.quick_reply or self.text):
            raise ValueError("give a quick_reply title or a text")
        return self


class CompleteSpec(Strict):
    """Complete the task, first sending a closing message when one is given."""

    quick_reply: str | None = None
    text: str | None = None


class CompeteSpec(Strict):
    among: list[str] | None = None  # operator names; default: every operator (not supervisors)


class NotifySpec(Strict):
    supervisors: bool = False
    operator: str | None = None
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "supervisors":
            return {"supervisors": True}
        if isinstance(value, str):
            return {"operator": value}
        return value

    @model_validator(mode="after")
    def _someone(self) -> NotifySpec:
        if not self.supervisors and not self.operator:
            raise ValueError("notify the supervisors or one operator")
        return self


ACTIONS = ("reply", "note", "set_status", "assign", "unassign", "assign_competitively",
           "notify", "complete")


class Action(Strict):
    reply: ReplySpec | None = None
    note: str | None = None
    set_status: Status | None = None
    assign: str | None = None
    unassign: Nothing | None = None
    assign_competitively: CompeteSpec | None = None
    notify: NotifySpec | None = None
    complete: CompleteSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = {k: ({} if v is True and k in ("unassign", "complete") else v)
                     for k, v in value.items()}
        return _one_key(value, ("unassign", "assign_competitively", "complete"))

    @model_validator(mode="after")
    def _one(self) -> Action:
        _exactly_one(self, "an action")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)


class Rule(Strict):
    id: str
    name: str = ""
    enabled: bool = True
    when: When
    if_: Conditions = Field(default_factory=Conditions, alias="if")
    then: list[Action] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError("a rule id is letters, digits, '_', '-' or '.' (at most 100)")
        return value

    @property
    def title(self) -> str:
        return self.name or self.id


class RulesFile(Strict):
    version: Literal[1] = 1
    schedules: dict[str, ScheduleSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
