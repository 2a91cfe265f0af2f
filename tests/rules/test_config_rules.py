"""The config file's ``rules:`` key chooses what the gateway's automation runner runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.bootstrap import open_store
from console.config import load_config
from console.gateway_wiring import make_gateway
from storage.rules.loader import RULES_ENV

RULES = """\
version: 1
rules:
  - id: hello
    name: Say hello
    when: client_message
    then:
      - note: hello
"""


def gateway_rules(tmp_path: Path, config_text: str) -> list[str]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config_text, encoding="utf-8")
    config = load_config(cfg)
    store = open_store(config, str(tmp_path / "desk.db"))
    try:
        gateway = make_gateway(store, config)
        try:
            assert gateway.automation is not None
            return [rule.id for rule in gateway.automation.rules.rules]
        finally:
            asyncio.run(gateway.server.stop())  # closes the socket make_gateway bound
    finally:
        store.close()


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RULES_ENV, raising=False)


def base(extra: str = "") -> str:
    return "server: {port: 0}\n" + extra


def test_no_rules_still_runs_the_timer_loop(tmp_path: Path) -> None:
    assert gateway_rules(tmp_path, base()) == []


def test_defaults_are_the_shipped_rules(tmp_path: Path) -> None:
    ids = gateway_rules(tmp_path, base("rules: defaults\n"))
    assert "out-of-hours-reply" in ids and "not-taken-30-minutes" in ids


def test_a_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "desk-rules.yaml").write_text(RULES, encoding="utf-8")
    assert gateway_rules(tmp_path, base("rules: desk-rules.yaml\n")) == ["hello"]


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "env.yaml").write_text(RULES, encoding="utf-8")
    monkeypatch.setenv(RULES_ENV, str(tmp_path / "env.yaml"))
    assert gateway_rules(tmp_path, base("rules: defaults\n")) == ["hello"]
