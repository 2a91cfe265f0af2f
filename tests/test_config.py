"""The configuration file: defaults, a full file, and every validation with file, line, key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.config import (
    THEMES,
    ChannelConfig,
    Config,
    ConfigError,
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


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("operator: {name: A}\ncolour: blue\n", 2, "colour", "unknown key"),
    ("operator:\n  name: A\n  role: admin\n", 3, "operator.role", "operator or supervisor"),
    ("operator:\n  name: ''\n", 2, "operator.name", "empty"),
    ("theme: solarized\n", 1, "theme", "switchboard-high-contrast"),
    ("language: 12\n", 1, "language", "text"),
    ("server:\n  port: eighty\n", 2, "server.port", "whole number"),
    ("server:\n  port: 70000\n", 2, "server.port", "between"),
    ("server:\n  port: true\n", 2, "server.port", "whole number"),
    ("server:\n  public_url: ftp://x\n", 2, "server.public_url", "http"),
    ("server:\n  hots: x\n", 2, "server.hots", "unknown key"),
    ("search:\n  operators_see_only_own: maybe\n", 2, "search.operators_see_only_own",
     "true or false"),
    ("keys:\n  thread.reply: [ctrl+s]\n", 2, "keys.thread.reply", "single value"),
    ("keys:\n  thread.reply: 5\n", 2, "keys.thread.reply", "text"),
    ("channels:\n  - {name: web, kind: webchat}\n  - {name: tg, kind: telegramm}\n", 3,
     "channels[1].kind", "unknown channel kind"),
    ("channels:\n  - {name: web, kind: webchat}\n  - name: web\n    kind: telegram\n", 3,
     "channels[1].name", "duplicate"),
    ("channels:\n  - {kind: webchat}\n", 2, "channels[0].name", "required"),
    ("channels: web\n", 1, "channels", "list"),
    ("channels:\n  - name: web\n    kind: webchat\n    settings:\n      reopen_completed: yes please\n",
     5, "channels[0].settings.reopen_completed", "true or false"),
    ("channels:\n  - name: web\n    kind: webchat\n    settings: {history_messages: 7}\n",
     4, "channels[0].settings.history_messages", "1, 5, 10, 20, 50"),
    ("channels:\n  - name: web\n    kind: webchat\n    options: [a]\n", 4,
     "channels[0].options", "mapping"),
    ("theme: switchboard-dark\ntheme: switchboard-light\n", 2, "theme", "twice"),
    ("- just\n- a list\n", 1, "file", "mapping"),
])
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str,
                                       words: str) -> None:
    err = error_for(tmp_path, text)
    assert err.line == line
    assert err.key == key
    assert f":{line}: {key}: " in str(err)
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
    assert any(":4: channels[0].settings.greeting_delay" in w for w in config.warnings)


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
