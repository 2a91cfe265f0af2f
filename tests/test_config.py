"""The configuration file: defaults, a full file, and every validation with file, line, key."""

from __future__ import annotations

import os
import sys
import types
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from console.config import (
    THEMES,
    ChannelConfig,
    Config,
    ConfigError,
    OperatorConfig,
    ServerConfig,
    default_config_path,
    load_config,
)

FULL = """\
operator: {name: Анна Петрова, role: supervisor}
database: postgresql://desk:hunter2@db.example/switchboard
language: ru
theme: switchboard-light
server: {host: 0.0.0.0, port: 9000, max_body_bytes: 2048, public_url: https://desk.example}
search: {operators_see_only_own: true}
keys: {thread.reply: ctrl+s, tasks.next: j}
channels:
  - name: web
    kind: webchat
    settings: {reopen_completed: true, history_messages: 5, default_assignee: Анна Петрова}
  - name: Телеграм
    kind: telegram
    options: {token: "123:SECRET-TOKEN", mode: polling}
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    return info.value


def test_missing_default_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nowhere"))
    assert default_config_path() == tmp_path / "nowhere" / "switchboard" / "config.yaml"
    config = load_config(None)
    assert config.database is None
    assert config.channels == (ChannelConfig(name="web", kind="webchat"),)
    assert config.theme == "switchboard-dark" and config.language is None
    assert config.operator.role == "operator" and config.operator.name
    assert config.warnings == ()


def test_default_path_is_read_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "switchboard").mkdir()
    (tmp_path / "switchboard" / "config.yaml").write_text("operator: {name: Zoë}\n")
    assert load_config(None).operator.name == "Zoë"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml")


def test_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.operator.name == "Анна Петрова" and config.operator.role == "supervisor"
    assert config.database == "postgresql://desk:hunter2@db.example/switchboard"
    assert config.language == "ru" and config.theme == "switchboard-light"
    assert (config.server.host, config.server.port, config.server.max_body_bytes) == (
        "0.0.0.0", 9000, 2048)
    assert config.server.public_url == "https://desk.example"
    assert config.search.operators_see_only_own is True
    assert config.keys == {"thread.reply": "ctrl+s", "tasks.next": "j"}
    web, tg = config.channels
    assert web.settings == {"reopen_completed": True, "history_messages": 5,
                            "default_assignee": "Анна Петрова"}
    assert tg.name == "Телеграм" and tg.kind == "telegram"
    assert tg.options == {"token": "123:SECRET-TOKEN", "mode": "polling"}
    assert config.warnings == ()


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    with pytest.raises(AttributeError):
        config.theme = "x"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null\n"])
def test_empty_file_means_defaults(tmp_path: Path, text: str) -> None:
    config = load_config(write(tmp_path, text))
    assert config.channels == Config().channels


@pytest.mark.parametrize(("text", "line", "column", "key", "words"), [
    ("operator: {name: A}\ncolour: blue\n", 2, 1, "colour", "unknown key; known keys: operator"),
    ("operator:\n  name: A\n  role: admin\n", 3, 9, "operator.role", "operator or supervisor"),
    ("operator:\n  name: ''\n", 2, 9, "operator.name", "empty"),
    ("operator:\n  name: '   '\n", 2, 9, "operator.name", "empty"),
    ("theme: solarized\n", 1, 8, "theme", "switchboard-high-contrast"),
    ("language: 12\n", 1, 11, "language", "text"),
    ("language: english\n", 1, 11, "language", "language code"),
    ("server:\n  port: eighty\n", 2, 9, "server.port", "whole number"),
    ("server:\n  port: 70000\n", 2, 9, "server.port", "at most 65535"),
    ("server:\n  port: true\n", 2, 9, "server.port", "whole number"),
    ("server:\n  port: '8780'\n", 2, 9, "server.port", "whole number"),
    ("server:\n  public_url: ftp://x\n", 2, 15, "server.public_url", "http"),
    ("server:\n  hots: x\n", 2, 3, "server.hots", "unknown key; known keys: host, port"),
    ("server:\n  header_timeout: 0\n", 2, 19, "server.header_timeout", "at least 0"),
    ("server:\n  visitor_burst: 1.5\n", 2, 18, "server.visitor_burst", "whole number"),
    ("search:\n  operators_see_only_own: maybe\n", 2, 27, "search.operators_see_only_own",
     "true or false"),
    ("keys:\n  thread.reply: [ctrl+s]\n", 2, 17, "keys.thread.reply", "single value"),
    ("keys:\n  thread.reply: 5\n", 2, 17, "keys.thread.reply", "text"),
    ("channels:\n  - {name: web, kind: webchat}\n  - {name: tg, kind: telegramm}\n", 3, 22,
     "channels[1].kind", "unknown channel kind"),
    ("channels:\n  - {name: web, kind: webchat}\n  - name: web\n    kind: telegram\n", 3, 11,
     "channels[1].name", "duplicate"),
    ("channels:\n  - {kind: webchat}\n", 2, 5, "channels[0].name", "required"),
    ("channels: web\n", 1, 11, "channels", "list"),
    ("channels:\n  - name: web\n    kind: webchat\n    settings:\n      reopen_completed: yes please\n",
     5, 25, "channels[0].settings.reopen_completed", "true or false"),
    ("channels:\n  - name: web\n    kind: webchat\n    settings: {history_messages: 7}\n",
     4, 34, "channels[0].settings.history_messages", "1, 5, 10, 20, 50"),
    ("channels:\n  - name: web\n    kind: webchat\n    options: [a]\n", 4, 14,
     "channels[0].options", "mapping"),
    ("theme: switchboard-dark\ntheme: switchboard-light\n", 2, 1, "theme", "twice"),
    ("- just\n- a list\n", 1, 1, "file", "mapping"),
])
def test_errors_name_file_line_column_and_key(tmp_path: Path, text: str, line: int, column: int,
                                              key: str, words: str) -> None:
    err = error_for(tmp_path, text)
    assert (err.line, err.column, err.key) == (line, column, key)
    assert f":{line}:{column}: {key}: " in str(err)
    assert words in str(err)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, "operator: {name: A}\nchannels:\n  - name: web\n   kind: [\n")
    assert err.line is not None and err.line >= 3
    assert "not valid YAML" in str(err)


def test_every_theme_is_accepted(tmp_path: Path) -> None:
    for theme in THEMES:
        assert load_config(write(tmp_path, f"theme: {theme}\n")).theme == theme


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    text = ("channels:\n  - name: tg\n    kind: telegram\n"
            "    options: {token: 'TOPSECRET-123', webhook_secret: 'HOOKSECRET'}\n"
            "    settings: {history_messages: TOPSECRET-123}\n")
    err = error_for(tmp_path, text)
    assert "TOPSECRET" not in str(err) and "HOOKSECRET" not in str(err)
    err = error_for(tmp_path, "database: {password: HUNTER2}\n")
    assert "HUNTER2" not in str(err)
    err = error_for(tmp_path, "channels:\n  - name: tg\n    kind: telegram\n    options: {token: "
                              "'SECRET-X', token: 'SECRET-Y'}\n")
    assert "SECRET-X" not in str(err) and "SECRET-Y" not in str(err)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_world_readable_file_warns(tmp_path: Path) -> None:
    path = write(tmp_path, FULL, mode=0o644)
    config = load_config(path)
    assert len(config.warnings) == 1
    assert "chmod 600" in config.warnings[0] and str(path) in config.warnings[0]
    path.chmod(0o600)
    assert load_config(path).warnings == ()


def test_unknown_channel_setting_is_kept_with_a_warning(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "channels:\n  - name: web\n    kind: webchat\n"
                                         "    settings: {greeting_delay: 3}\n"))
    assert config.channels[0].settings == {"greeting_delay": 3}
    assert any(":4:16: channels[0].settings.greeting_delay" in w for w in config.warnings)


def test_cyrillic_and_unicode_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "operator: {name: Алёна Ёлкина}\nchannels:\n"
                                         "  - {name: Веб-чат, kind: webchat}\n"))
    assert config.operator.name == "Алёна Ёлкина"
    assert config.channels[0].name == "Веб-чат"


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes("operator: {name: Анна}\n".encode("cp1251"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


# ---- channel options come from each kind's plug-in --------------------------------------

def test_unknown_connector_option_is_refused_with_its_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, "channels:\n  - name: tg\n    kind: telegram\n    options:\n"
                              "      token: '1:SECRET'\n      tokne: '1:SECRET'\n")
    assert (err.line, err.column, err.key) == (6, 7, "channels[0].options.tokne")
    assert "unknown key; known keys: token, mode" in str(err)
    assert "SECRET" not in str(err)


def test_connector_option_types_come_from_the_plugin(tmp_path: Path) -> None:
    err = error_for(tmp_path, "channels:\n  - name: tg\n    kind: telegram\n"
                              "    options: {token: 'T0P-SECRET', mode: hooks}\n")
    assert (err.line, err.key) == (4, "channels[0].options.mode")
    assert "polling or webhook" in str(err) and "T0P-SECRET" not in str(err)
    err = error_for(tmp_path, "channels:\n  - name: tg\n    kind: telegram\n"
                              "    options: {token: 12345}\n")
    assert err.key == "channels[0].options.token" and "expected text, got a number" in str(err)
    assert "12345" not in str(err)


def test_valid_options_are_kept_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "channels:\n  - name: web\n    kind: webchat\n"
                                         "    options: {allowed_origins: [https://shop.example]}\n"))
    assert config.channels[0].options == {"allowed_origins": ["https://shop.example"]}


def test_a_kind_whose_connector_is_not_ready_is_refused(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors import registry
    from connectors.plugin import ChannelPlugin, ConnectorOptions
    from storage.channel_policy import ChannelPolicy

    package = types.ModuleType("pigeon_channel")
    package.PLUGIN = ChannelPlugin(  # type: ignore[attr-defined]
        kind="pigeon", options=ConnectorOptions, policy=ChannelPolicy("pigeon", 140, False),
        connector="pigeon_channel.connector:PigeonConnector", title="Carrier pigeon",
        ready=False)
    monkeypatch.setitem(sys.modules, "pigeon_channel", package)
    monkeypatch.setitem(registry.PACKAGES, "pigeon", "pigeon_channel")
    registry.plugin.cache_clear()
    try:
        err = error_for(tmp_path, "channels:\n  - {name: web, kind: webchat}\n"
                                  "  - {name: birds, kind: pigeon}\n")
    finally:
        registry.plugin.cache_clear()
    assert (err.line, err.column, err.key) == (3, 25, "channels[1].kind")
    assert "Carrier pigeon channels are not available yet" in str(err)
    for kind, declared in registry.plugins().items():  # every real kind not ready is refused too
        if not declared.ready:
            assert "not available yet" in str(error_for(
                tmp_path, f"channels:\n  - {{name: x, kind: {kind}}}\n"))


def test_server_limits_have_defaults_and_can_be_set(tmp_path: Path) -> None:
    server = load_config(write(tmp_path, "operator: {name: A}\n")).server
    assert (server.header_timeout, server.body_timeout, server.max_connections_per_ip) == (
        10.0, 30.0, 64)
    assert (server.visitor_messages_per_second, server.visitor_burst,
            server.new_chats_per_minute) == (1.0, 10, 10)
    assert (server.webhook_requests_per_second, server.webhook_burst) == (100.0, 500)
    server = load_config(write(tmp_path, "server: {header_timeout: 2, visitor_burst: 3, "
                                         "webhook_requests_per_second: 7.5}\n")).server
    assert (server.header_timeout, server.visitor_burst, server.webhook_requests_per_second) == (
        2.0, 3, 7.5)


def test_config_objects_are_built_in_code_as_before() -> None:
    config = Config(operator=OperatorConfig("Anna", "supervisor"), server=ServerConfig(port=0))
    assert (config.operator.name, config.operator.role, config.server.port) == (
        "Anna", "supervisor", 0)
    assert replace(config, database="x.db").database == "x.db"
    with pytest.raises(ValidationError):
        OperatorConfig("Anna", "admin")


# ---- YAML syntax errors point at their cause ---------------------------------------------

@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("operator: {name: A}\nchannels:\n  - name: web\n    kind: [webchat\n", 4, 11, "list opened"),
    ("a: [1, 2\nb: 3\nc: 4\n", 1, 4, "list opened"),
    ("operator: {name: A\ntheme: x\n", 1, 11, "brace"),
    ("theme: x\noperator:\n  name: 'Anna\n", 3, 9, "quoted text"),
    ('theme: x\noperator:\n  name: "Anna\n\n\n', 3, 9, "quoted text"),
])
def test_unclosed_brackets_and_quotes_name_where_they_start(tmp_path: Path, text: str,
                                                            line: int, column: int,
                                                            words: str) -> None:
    err = error_for(tmp_path, text)
    assert (err.line, err.column) == (line, column)
    assert f":{line}:{column}: not valid YAML" in str(err) and words in str(err)
