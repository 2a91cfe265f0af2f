"""The configuration file: one YAML file, validated before anything starts.

Format (docs/architecture.md): ``operator``, ``database``, ``language``, ``theme``,
``server``, ``search``, ``keys``, ``channels``. The file is parsed with
``yaml.compose`` rather than ``safe_load`` so every value keeps its position: an
error names the file, the line and the dotted key (``channels[1].kind``), which is
what a person editing the file by hand needs. Duplicate keys, unknown keys and wrong
types are errors, not silently ignored, because a typo in ``reopen_completed`` would
otherwise change how the team's conversations behave without a word.

The file holds channel tokens, so errors never quote option values or a database
password, and :func:`load_config` warns when the file is readable by other users.
"""

from __future__ import annotations

import getpass
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from console.config_nodes import ConfigError, NodeReader
from storage.channel_policy import KNOWN_KINDS
from storage.database import redact_url
from storage.i18n import _
from storage.models import ROLES
from storage.ops_ingest import HISTORY_CHOICES

THEMES = ("switchboard-dark", "switchboard-light", "switchboard-high-contrast")
DEFAULT_THEME = THEMES[0]
DEFAULT_CHANNEL_NAME = "web"
TOP_LEVEL_KEYS = ("operator", "database", "language", "theme", "server", "search", "keys",
                  "channels")
SECRET_WORDS = ("token", "secret", "password", "key")
CHANNEL_SETTINGS = ("reopen_completed", "history_messages", "default_assignee",
                    "write_first_allowed")
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class OperatorConfig:
    name: str
    role: str = "operator"


@dataclass(frozen=True)
class ServerConfig:
    """The HTTP server of the connectors (web chat, webhooks)."""

    host: str = "127.0.0.1"
    port: int = 8780
    max_body_bytes: int = 1_048_576
    public_url: str | None = None


@dataclass(frozen=True)
class SearchConfig:
    operators_see_only_own: bool = False


@dataclass(frozen=True)
class ChannelConfig:
    """``settings`` are stored on the channel (storage rules); ``options`` go to the connector."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def default_operator_name() -> str:
    try:
        return getpass.getuser() or "operator"
    except Exception:  # no login name (some containers): any stable name will do
        return "operator"


def default_channels() -> tuple[ChannelConfig, ...]:
    return (ChannelConfig(name=DEFAULT_CHANNEL_NAME, kind="webchat"),)


@dataclass(frozen=True)
class Config:
    operator: OperatorConfig = field(default_factory=lambda: OperatorConfig(default_operator_name()))
    database: str | None = None
    language: str | None = None  # None: from the environment (LANGUAGE, LC_ALL, LANG)
    theme: str = DEFAULT_THEME
    server: ServerConfig = field(default_factory=ServerConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    keys: dict[str, str] = field(default_factory=dict)
    channels: tuple[ChannelConfig, ...] = field(default_factory=default_channels)
    path: Path | None = None  # the file it came from (None: defaults)
    warnings: tuple[str, ...] = ()  # problems worth saying that do not stop anything


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("switchboard", appauthor=False)) / "config.yaml"


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
    return _Parser(text, path).parse()


class _Parser(NodeReader):
    """Walks the config's composed YAML nodes section by section."""

    def parse(self) -> Config:
        try:
            root = self.loader.get_single_node()
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            problem = err.problem or err.context or _("invalid YAML")
            raise ConfigError(self.path, mark.line + 1 if mark else None, "",
                              _("not valid YAML: {problem}").format(problem=problem)) from None
        except yaml.YAMLError as err:
            raise ConfigError(self.path, None, "", _("not valid YAML: {problem}").format(
                problem=err.__class__.__name__)) from None
        finally:
            self.loader.dispose()
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
            return Config()
        top = self.mapping(root, "")
        for key, (key_node, _value) in top.items():
            if key not in TOP_LEVEL_KEYS:
                raise self.fail(key_node, key, _("unknown key; known keys: {keys}.").format(
                    keys=", ".join(TOP_LEVEL_KEYS)))
        values: dict[str, Any] = {}
        if "operator" in top:
            values["operator"] = self.operator(top["operator"][1])
        if "database" in top:
            values["database"] = self.optional_str(top["database"][1], "database")
        if "language" in top:
            language = self.string(top["language"][1], "language")
            if not _LANGUAGE.match(language):
                raise self.fail(top["language"][1], "language",
                                _("expected a language code such as en or ru."))
            values["language"] = language
        if "theme" in top:
            theme = self.string(top["theme"][1], "theme")
            if theme not in THEMES:
                raise self.fail(top["theme"][1], "theme", _("unknown theme {name!r}; choose one of "
                                                            "{names}.").format(name=theme, names=", ".join(THEMES)))
            values["theme"] = theme
        if "server" in top:
            values["server"] = self.server(top["server"][1])
        if "search" in top:
            node = top["search"][1]
            fields = self.mapping(node, "search", allowed=("operators_see_only_own",))
            own = fields.get("operators_see_only_own")
            values["search"] = SearchConfig(
                operators_see_only_own=self.boolean(own[1], "search.operators_see_only_own")
                if own else False)
        if "keys" in top:
            values["keys"] = self.keys(top["keys"][1])
        if "channels" in top:
            values["channels"] = self.channels(top["channels"][1])
        return Config(**values, path=self.path, warnings=tuple(self.warnings))

    # ---- sections -------------------------------------------------------------------
    def operator(self, node: yaml.Node) -> OperatorConfig:
        fields = self.mapping(node, "operator", allowed=("name", "role"))
        name = (self.string(fields["name"][1], "operator.name") if "name" in fields
                else default_operator_name())
        if not name.strip():
            raise self.fail(fields["name"][1], "operator.name", _("must not be empty."))
        role = "operator"
        if "role" in fields:
            role = self.string(fields["role"][1], "operator.role")
            if role not in ROLES:
                raise self.fail(fields["role"][1], "operator.role",
                                _("must be operator or supervisor."))
        return OperatorConfig(name=name.strip(), role=role)

    def server(self, node: yaml.Node) -> ServerConfig:
        fields = self.mapping(node, "server",
                              allowed=("host", "port", "max_body_bytes", "public_url"))
        values: dict[str, Any] = {}
        if "host" in fields:
            values["host"] = self.string(fields["host"][1], "server.host")
        if "port" in fields:
            values["port"] = self.integer(fields["port"][1], "server.port", 0, 65535)
        if "max_body_bytes" in fields:
            values["max_body_bytes"] = self.integer(fields["max_body_bytes"][1],
                                                    "server.max_body_bytes", 1, 2**31)
        if "public_url" in fields:
            url = self.optional_str(fields["public_url"][1], "server.public_url")
            if url is not None and not url.startswith(("http://", "https://")):
                raise self.fail(fields["public_url"][1], "server.public_url",
                                _("must start with http:// or https://."))
            values["public_url"] = url
        return ServerConfig(**values)

    def keys(self, node: yaml.Node) -> dict[str, str]:
        fields = self.mapping(node, "keys")
        return {key: self.string(value, f"keys.{key}") for key, (_k, value) in fields.items()}

    def channels(self, node: yaml.Node) -> tuple[ChannelConfig, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "channels", _("expected a list of channels."))
        seen: dict[str, int] = {}
        result = []
        for index, item in enumerate(node.value):
            where = f"channels[{index}]"
            fields = self.mapping(item, where, allowed=("name", "kind", "settings", "options"))
            for required in ("name", "kind"):
                if required not in fields:
                    raise self.fail(item, f"{where}.{required}", _("is required."))
            name = self.string(fields["name"][1], f"{where}.name").strip()
            if not name:
                raise self.fail(fields["name"][1], f"{where}.name", _("must not be empty."))
            if name in seen:
                raise self.fail(fields["name"][1], f"{where}.name", _(
                    "duplicate channel name {name!r} (also channels[{other}]).").format(
                        name=name, other=seen[name]))
            seen[name] = index
            kind = self.string(fields["kind"][1], f"{where}.kind")
            if kind not in KNOWN_KINDS:
                raise self.fail(fields["kind"][1], f"{where}.kind", _(
                    "unknown channel kind {kind!r}; known kinds: {kinds}.").format(
                        kind=kind, kinds=", ".join(KNOWN_KINDS)))
            settings = (self.settings(fields["settings"][1], f"{where}.settings")
                        if "settings" in fields else {})
            options = (self.plain(fields["options"][1], f"{where}.options", mapping=True)
                       if "options" in fields else {})
            result.append(ChannelConfig(name=name, kind=kind, settings=settings, options=options))
        return tuple(result)

    def settings(self, node: yaml.Node, where: str) -> dict[str, Any]:
        fields = self.mapping(node, where)
        out: dict[str, Any] = {}
        for key, (key_node, value) in fields.items():
            here = f"{where}.{key}"
            if key == "reopen_completed":
                out[key] = self.boolean(value, here)
            elif key == "history_messages":
                count = self.integer(value, here, 0, 1000)
                if count not in HISTORY_CHOICES:
                    raise self.fail(value, here, _("choose one of {choices}.").format(
                        choices=", ".join(map(str, HISTORY_CHOICES))))
                out[key] = count
            elif key == "default_assignee":
                out[key] = self.optional_str(value, here)
            else:
                if key not in CHANNEL_SETTINGS:
                    line = key_node.start_mark.line + 1
                    self.warnings.append(_("{file}:{line}: {key}: unknown channel setting, kept "
                                           "as written.").format(file=self.path, line=line, key=here))
                out[key] = self.plain(value, here)
        return out


def describe_database(config: Config, override: str | None = None) -> str:
    """The database a run will use, password hidden (for messages and ``config check``)."""
    url = override or config.database
    if not url:
        from storage.database import default_sqlite_path

        return str(default_sqlite_path())
    return redact_url(url)
