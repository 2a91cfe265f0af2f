"""The configuration file: one YAML file, validated before anything starts.

The schema is :mod:`console.config_schema` (pydantic dataclasses; unknown keys and
wrong types are errors). The file is composed with ``yaml.compose`` so every value
keeps its position: an error names the file, the line, the column and the dotted key
(``channels[1].options.tokne``), which is what a person editing the file by hand
needs. Each channel's ``options`` are validated with its plug-in's options model
(``connectors.registry``), so a misspelt connector option is refused here, not when
``serve`` starts. Duplicate keys are errors too, because a typo in ``reopen_completed``
would otherwise change how the team's conversations behave without a word.

The file holds channel tokens, so errors never quote values or a database password,
and :func:`load_config` warns when the file is readable by other users.
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from connectors.plugin import ConnectorError
from connectors.registry import PACKAGES, plugin
from console.config_location import default_config_path
from console.config_nodes import (
    ConfigError,
    check_duplicates,
    compose,
    dotted,
    fail,
    is_null,
    node_at,
    to_data,
    type_name,
)
from console.config_schema import (
    DEFAULT_CHANNEL_NAME,
    DEFAULT_THEME,
    SCHEMA,
    THEMES,
    ChannelConfig,
    ChannelSettings,
    ConfigFile,
    OperatorConfig,
    SearchConfig,
    ServerConfig,
    default_channels,
    default_operator_name,
)
from storage.database_url import redact_url
from storage.i18n import _

SECRET_WORDS = ("token", "secret", "password", "key")

__all__ = [
    "DEFAULT_CHANNEL_NAME", "DEFAULT_THEME", "THEMES", "ChannelConfig", "Config", "ConfigError",
    "OperatorConfig", "SearchConfig", "ServerConfig", "default_channels", "default_config_path",
    "default_operator_name", "describe_database", "is_secret", "load_config", "parse_config",
]


@dataclass(frozen=True, config=SCHEMA)
class Config(ConfigFile):
    """A validated configuration, with where it came from."""

    path: Path | None = None  # the file it came from (None: defaults)
    warnings: tuple[str, ...] = ()  # problems worth saying that do not stop anything


_FILE = TypeAdapter(ConfigFile)


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def load_config(path: Path | None = None) -> Config:
    """Read and validate the file; None means the default path, where a missing file is fine."""
    explicit = path is not None
    path = Path(path).expanduser() if path is not None else default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(path, None, "", _("the file does not exist."))
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, None, "", _("cannot read the file: {reason}").format(
            reason=getattr(err, "strerror", None) or err.__class__.__name__)) from err
    warnings = permission_warnings(path)
    config = parse_config(text, path)
    return replace(config, path=path, warnings=(*warnings, *config.warnings))


def permission_warnings(path: Path) -> list[str]:
    """The file holds tokens: say so when other users can read it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        return [_("{path} can be read by other users, and it holds channel tokens: "
                  "run chmod 600 {path}").format(path=path)]
    return []


def parse_config(text: str, path: Path | None = None) -> Config:
    """Validate YAML text; raises :class:`ConfigError` at the first problem."""
    root = compose(text, path)
    if is_null(root):
        return Config(path=path)
    assert root is not None
    if not isinstance(root, yaml.MappingNode):
        raise fail(path, root, _("file"), _("expected a mapping of keys to values."))
    check_duplicates(root, path)
    data = to_data(root, path)
    parsed = _validate(_FILE, data, root, path, ())
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for index, channel in enumerate(parsed.channels):
        here = ("channels", index)
        if channel.name in seen:
            raise fail(path, node_at(root, (*here, "name")), dotted((*here, "name")), _(
                "duplicate channel name {name!r} (also channels[{other}]).").format(
                    name=channel.name, other=seen[channel.name]))
        seen[channel.name] = index
        _check_channel(channel, root, path, here)
        for key in channel.settings:
            if key not in ChannelSettings.model_fields:
                where = (*here, "settings", key)
                node = node_at(root, where, key=True)
                warnings.append(_("{file}:{line}:{column}: {key}: unknown channel setting, "
                                  "kept as written.").format(
                    file=path, line=node.start_mark.line + 1, column=node.start_mark.column + 1,
                    key=dotted(where)))
    fields = {name: getattr(parsed, name) for name in ConfigFile.__dataclass_fields__}
    return Config(**fields, path=path, warnings=tuple(warnings))


def _check_channel(channel: ChannelConfig, root: yaml.Node, path: Path | None,
                   here: tuple[str | int, ...]) -> None:
    """The kind exists and is ready; the options are what the kind's plug-in accepts."""
    kind_at = (*here, "kind")
    if channel.kind not in PACKAGES:
        raise fail(path, node_at(root, kind_at), dotted(kind_at), _(
            "unknown channel kind {kind!r}; known kinds: {kinds}.").format(
                kind=channel.kind, kinds=", ".join(PACKAGES)))
    try:
        declared = plugin(channel.kind)
    except ConnectorError as err:  # pragma: no cover - a broken package is a bug
        raise fail(path, node_at(root, kind_at), dotted(kind_at), str(err)) from None
    if not declared.ready:
        raise fail(path, node_at(root, kind_at), dotted(kind_at), _(
            "{title} channels are not available yet: their connector is not finished. "
            "Remove this channel or choose another kind.").format(
                title=declared.title or channel.kind))
    _validate(TypeAdapter(declared.options), channel.options, root, path, (*here, "options"))


def _validate(adapter: TypeAdapter[Any], data: Any, root: yaml.Node, path: Path | None,
              prefix: tuple[str | int, ...]) -> Any:
    """``data`` validated strictly (as JSON types: YAML lists are accepted as tuples);
    the first error is raised at its line, column and dotted key."""
    try:
        return adapter.validate_json(json.dumps(data, default=str, ensure_ascii=False),
                                     strict=True)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = (*prefix, *first["loc"])
        unknown = first["type"] in ("extra_forbidden", "unexpected_keyword_argument")
        node = node_at(root, loc, key=unknown)
        raise fail(path, node, dotted(loc) or _("file"), error_message(first, adapter)) from None


def error_message(error: ErrorDetails, adapter: TypeAdapter[Any] | None = None) -> str:
    """A validation error in the config's own words; the input value is never quoted."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    got = type_name(given)
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        known = _known_keys(adapter, error["loc"][:-1]) if adapter else []
        return _("unknown key; known keys: {keys}.").format(keys=", ".join(known)) if known \
            else _("unknown key.")
    if kind == "missing" or kind == "missing_argument":
        return _("is required.")
    if isinstance(given, list | dict) and kind in ("string_type", "int_type", "float_type",
                                                   "bool_type", "literal_error"):
        return _("expected a single value, not a list or mapping.")
    if kind == "string_type":
        return _("expected text, got {type}.").format(type=got)
    if kind == "int_type":
        return _("expected a whole number, got {type}.").format(type=got)
    if kind == "float_type":
        return _("expected a number, got {type}.").format(type=got)
    if kind == "bool_type":
        return _("expected true or false, got {type}.").format(type=got)
    if kind in ("dict_type", "model_type", "dataclass_type", "model_attributes_type"):
        return _("expected a mapping of keys to values, got {type}.").format(type=got)
    if kind in ("tuple_type", "list_type"):
        return _("expected a list, got {type}.").format(type=got)
    if kind == "literal_error":
        return _("must be {choices}.").format(choices=str(ctx.get("expected", "")).replace("'", ""))
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return _("must not be empty.")
    if kind == "string_too_long":
        return _("must be at most {limit} characters.").format(limit=ctx.get("max_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _("must be at least {limit}.").format(limit=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("must be at most {limit}.").format(limit=ctx.get("le", ctx.get("lt")))
    return error["msg"]  # custom errors carry our own (translated) message


def _known_keys(adapter: TypeAdapter[Any], loc: tuple[str | int, ...]) -> list[str]:
    """The field names allowed at ``loc`` (for "known keys: ..."), from the JSON schema."""
    schema = adapter.json_schema()
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        for alt in node.get("anyOf", []):
            if "properties" in alt or "$ref" in alt:
                return resolve(alt)
        return node

    node = resolve(schema)
    for part in loc:
        if isinstance(part, int):
            node = resolve(node.get("items", node.get("prefixItems", [{}])[0]
                                    if "prefixItems" in node else {}))
        else:
            node = resolve(node.get("properties", {}).get(part, {}))
    return list(node.get("properties", {}))


def options_model(kind: str) -> type[BaseModel]:
    """The options model of a channel kind (for the reference and the checks)."""
    return plugin(kind).options


def database_url(config: Config, override: str | None = None) -> str | None:
    """The database a run opens: ``--db`` over the file's ``database``; None is the
    default SQLite file."""
    return override or config.database


def describe_database(config: Config, override: str | None = None) -> str:
    """The database a run will use, password hidden (for messages and ``config check``)."""
    url = database_url(config, override)
    if not url:
        from storage.database_url import default_sqlite_path

        return str(default_sqlite_path())
    return redact_url(url)
