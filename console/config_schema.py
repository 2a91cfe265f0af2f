"""The configuration file's schema, written once: pydantic v2 dataclasses.

Every section is a frozen pydantic dataclass with unknown keys forbidden and strict
types (``port: "80"`` is an error, not 80). The loader (:mod:`console.config`)
validates the YAML against :class:`ConfigFile`, maps each error's location back to
its line and column, and validates ``channels[].options`` with the options model of
the channel's plug-in (``connectors.registry``). README.md's configuration reference
is generated from these classes (:mod:`console.config_reference`), so the
``description`` of each field is the documentation.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from storage.constants import DEFAULT_HISTORY, HISTORY_CHOICES, ROLES
from storage.i18n import _

THEMES = ("switchboard-dark", "switchboard-light", "switchboard-high-contrast")
DEFAULT_THEME = THEMES[0]
DEFAULT_CHANNEL_NAME = "web"
SCHEMA = ConfigDict(extra="forbid", strict=True)
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")

Role = Literal[ROLES]  # type: ignore[valid-type]
Theme = Literal[THEMES]  # type: ignore[valid-type]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def default_operator_name() -> str:
    try:
        return getpass.getuser() or "operator"
    except Exception:  # no login name (some containers): any stable name will do
        return "operator"


def _language(value: str | None) -> str | None:
    if value is not None and not _LANGUAGE.match(value):
        raise PydanticCustomError("language", _("expected a language code such as en or ru."))
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise PydanticCustomError("http_url", _("must start with http:// or https://."))
    return value


def _history(value: int) -> int:
    if value not in HISTORY_CHOICES:
        raise PydanticCustomError("history_choice", _("choose one of {choices}.").format(
            choices=", ".join(map(str, HISTORY_CHOICES))))
    return value


@dataclass(frozen=True, config=SCHEMA)
class OperatorConfig:
    """Who this console acts as."""

    name: NonEmpty = Field(default_factory=default_operator_name,
                           description="The operator's name (default: the login name).")
    role: Role = Field("operator", description="operator or supervisor.")
    may_act_as: tuple[NonEmpty, ...] = Field((), description="Operators this configuration "
                                              "may act as with the CLI's --as (supervisors "
                                              "may act as anyone).")


@dataclass(frozen=True, config=SCHEMA)
class ServerConfig:
    """The HTTP server of the connectors (web chat, webhooks) and its limits."""

    host: str = Field("127.0.0.1", description="Listen address.")
    port: int = Field(8780, ge=0, le=65535, description="Listen port (0 picks a free one).")
    max_body_bytes: int = Field(1_048_576, ge=1, le=2**31,
                                description="Largest request body accepted.")
    public_url: Annotated[str | None, AfterValidator(_http_url)] = Field(
        None, description="The address clients and platforms reach (webhooks, links).")
    header_timeout: float = Field(10.0, gt=0, description="Seconds a client has to send the "
                                  "request headers before it is cut off.")
    body_timeout: float = Field(30.0, gt=0, description="Seconds a client has to send the "
                                "request body.")
    max_connections_per_ip: int = Field(64, ge=1, description="Open connections allowed "
                                        "from one address.")
    visitor_messages_per_second: float = Field(1.0, gt=0, description="A web-chat visitor's "
                                               "sustained message rate.")
    visitor_burst: int = Field(10, ge=1, description="Messages a visitor may send at once "
                               "above the rate.")
    new_chats_per_minute: int = Field(10, ge=1, description="New web-chat conversations "
                                      "one address may open per minute.")
    webhook_requests_per_second: float = Field(100.0, gt=0, description="Sustained webhook "
                                               "requests per channel.")
    webhook_burst: int = Field(500, ge=1, description="Webhook requests per channel allowed "
                               "at once above the rate (then 429 with Retry-After).")
    ingest_process: bool = Field(True, description="`switchboard serve` on a SQLite file "
                                 "commits inbound messages in a helper process, so receiving "
                                 "and storing run on two cores; false: in a thread of its own "
                                 "process. The console's own gateway always uses a thread.")


@dataclass(frozen=True, config=SCHEMA)
class SearchConfig:
    """Full-text search."""

    operators_see_only_own: bool = Field(False, description="Operators find only their own "
                                         "tasks; supervisors find everything.")


def _quiet_hours(value: str | None) -> str | None:
    if value is not None and not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
                                          value):
        raise PydanticCustomError("quiet_hours", _("expected HH:MM-HH:MM, e.g. 22:00-08:00."))
    return value


@dataclass(frozen=True, config=SCHEMA)
class NotificationsConfig:
    """When a client writes in a task that is not open."""

    bell: bool = Field(True, description="Ring the terminal bell.")
    desktop: bool = Field(True, description="Ask the terminal for a desktop notification "
                          "(OSC 9 and OSC 777).")
    scope: Literal["mine", "unassigned", "all"] = Field(
        "mine", description="Which tasks notify: mine, unassigned (and mine), or all.")
    quiet_hours: Annotated[str | None, AfterValidator(_quiet_hours)] = Field(
        None, description="Nothing rings in this daily span, e.g. 22:00-08:00.")


class ChannelSettings(BaseModel):
    """Stored on the channel (storage rules); a key not listed is kept with a warning."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    reopen_completed: bool = Field(False, description="A client writing into a completed "
                                   "task reopens it instead of starting a new one.")
    history_messages: Annotated[int, AfterValidator(_history)] = Field(
        DEFAULT_HISTORY, description="Previous messages quoted into a new task: "
                        + ", ".join(map(str, HISTORY_CHOICES)) + ".")
    default_assignee: str | None = Field(None, description="Operator name new tasks are "
                                         "assigned to.")
    auto_assign: bool = Field(False, description="Team mode: new tasks go round robin to "
                              "the available operators.")
    auto_assign_limit: int | None = Field(None, ge=0, description="Open tasks an operator "
                                          "may hold before auto-assignment skips them "
                                          "(null: no limit; an operator's own limit wins).")
    write_first_allowed: dict[str, bool] = Field(default_factory=dict, description="Per chat "
                                                 "id: whether the client allowed the company "
                                                 "to write first (VK, Viber).")

    def written(self) -> dict[str, Any]:
        """Only what the file says (defaults stay the store's), unknown keys included."""
        return self.model_dump(exclude_unset=True)


def _settings_dict(value: ChannelSettings) -> dict[str, Any]:
    return value.written()


@dataclass(frozen=True, config=SCHEMA)
class ChannelConfig:
    """One channel: ``settings`` are stored on it, ``options`` go to its connector."""

    name: NonEmpty = Field(description="Unique; shown to operators and in webhook URLs.")
    kind: str = Field(description="The channel kind (see the channel options below).")
    # Validated as ChannelSettings, kept as the dict the file wrote.
    settings: Annotated[ChannelSettings, AfterValidator(_settings_dict)] = field(
        default_factory=dict)  # type: ignore[assignment]
    # Validated by the loader with the kind's options model (connectors.registry).
    options: dict[str, Any] = Field(default_factory=dict, description="Connector options of "
                                    "the kind (tokens, modes, URLs).")


def default_channels() -> tuple[ChannelConfig, ...]:
    return (ChannelConfig(name=DEFAULT_CHANNEL_NAME, kind="webchat"),)


@dataclass(frozen=True, config=SCHEMA)
class ConfigFile:
    """Everything the YAML file may say."""

    operator: OperatorConfig = field(default_factory=OperatorConfig)
    database: str | None = Field(None, description="null: SQLite in the user data directory; "
                                 "or a path, sqlite:///path, postgresql://…")
    language: Annotated[str | None, AfterValidator(_language)] = Field(
        None, description="UI language (en, ru); null: from the environment.")
    theme: Theme = Field(DEFAULT_THEME, description="The colour theme.")
    server: ServerConfig = field(default_factory=ServerConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    keys: dict[str, str] = Field(default_factory=dict, description="Binding id → keys "
                                 "(see the keyboard reference).")
    channels: tuple[ChannelConfig, ...] = field(default_factory=default_channels)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    reply_takes_unassigned: bool = Field(False, description="Replying in an unassigned task "
                                         "makes it yours.")
    rules: str | None = Field(None, description="Automation rules: a YAML file (relative to "
                              "this file), `defaults` for the shipped rules, or null for none "
                              "($SWITCHBOARD_RULES overrides; see docs/rules.md).")
