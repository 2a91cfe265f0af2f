"""The ``switchboard`` command: help, config check, demo, quick replies, README/CI agreement.

``main(argv)`` runs in-process for most checks; the installed ``switchboard`` script
runs as a subprocess for ``--help`` and ``config check`` (the entry point itself).
Every run points XDG_CONFIG_HOME/XDG_DATA_HOME at a temp dir: no test reads or writes
the real user's configuration or data.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from console.cli import SUBCOMMANDS, main
from storage.inputs import Inbound
from storage.models import STATUSES
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
HELP_COMMANDS = [
    ("console.cmd_demo", ["demo"]),
    ("console.cmd_serve", ["serve"]),
    ("console.cmd_search", ["search"]),
    ("console.cmd_quick_replies", ["quick-replies"]),
    ("console.cmd_quick_replies", ["quick-replies", "import"]),
    ("console.cmd_quick_replies", ["quick-replies", "export"]),
    ("console.cmd_config", ["config"]),
    ("console.cmd_config", ["config", "check"]),
]


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path


def script() -> str:
    found = Path(sys.executable).with_name("switchboard")
    if found.exists():
        return str(found)
    which = shutil.which("switchboard")
    assert which is not None, "the switchboard script is not installed (pip install -e .)"
    return which


def run_script(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([script(), *args], capture_output=True, text=True, input=stdin,
                          env=env, timeout=60, encoding="utf-8")


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--config" in out and "--db" in out
    for name in ("demo", "quick-replies", "config"):
        assert name in out
    for word in ("serve", "search"):
        assert word in out


@pytest.mark.parametrize(("module", "argv"), HELP_COMMANDS, ids=[" ".join(a) for _, a in HELP_COMMANDS])
def test_every_command_has_help(module: str, argv: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert have(module)
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: switchboard {' '.join(argv)}")
    assert len(out.splitlines()) >= 4  # a description, not just a usage line


def test_subcommand_modules_are_all_listed() -> None:
    assert set(SUBCOMMANDS) == {"console.cmd_serve", "console.cmd_search", "console.cmd_demo",
                                "console.cmd_quick_replies", "console.cmd_config",
                                "console.cmd_task", "console.cmd_rules",
                                "console.cmd_operator"}


def test_installed_script_help() -> None:
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    assert "usage: switchboard" in result.stdout and "config" in result.stdout
    result = run_script("config", "check", "--help")
    assert result.returncode == 0 and "usage: switchboard config check" in result.stdout


def test_config_check_valid(isolated_dirs: Path) -> None:
    path = isolated_dirs / "ok.yaml"
    path.write_text("operator: {name: Анна}\nchannels:\n  - {name: web, kind: webchat}\n",
                    encoding="utf-8")
    path.chmod(0o600)
    result = run_script("--config", str(path), "config", "check")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and "Анна" in result.stdout
    assert result.stderr.strip() == ""
    # Nothing was started or created: no database in the data dir.
    assert not (isolated_dirs / "xdg-data").exists()


def test_config_check_invalid_names_file_line_key(isolated_dirs: Path) -> None:
    path = isolated_dirs / "bad.yaml"
    path.write_text("operator: {name: A}\nchannels:\n  - {name: tg, kind: telegramm, "
                    "options: {token: 'SECRET-1'}}\n", encoding="utf-8")
    result = run_script("config", "check", "--config", str(path))
    assert result.returncode == 1
    assert f"{path}:3:22: channels[0].kind:" in result.stderr
    assert "SECRET-1" not in result.stderr + result.stdout


def test_config_check_refuses_an_unknown_connector_option_with_its_line(
        isolated_dirs: Path) -> None:
    path = isolated_dirs / "typo.yaml"
    path.write_text("channels:\n  - name: tg\n    kind: telegram\n    options:\n"
                    "      token: 'SECRET-2'\n      webhook_secert: 'SECRET-3'\n", encoding="utf-8")
    path.chmod(0o600)
    result = run_script("--config", str(path), "config", "check")
    assert result.returncode == 1
    assert f"{path}:6:7: channels[0].options.webhook_secert: unknown key" in result.stderr
    assert "SECRET" not in result.stderr + result.stdout


def test_config_check_warns_about_permissions(isolated_dirs: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_dirs / "open.yaml"
    path.write_text("channels:\n  - {name: tg, kind: telegram, options: {token: 'x'}}\n")
    path.chmod(0o644)
    assert main(["--config", str(path), "config", "check"]) == 0
    err = capsys.readouterr().err
    assert "Warning" in err and "chmod 600" in err


def test_config_check_missing_default_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert "defaults" in capsys.readouterr().out


def test_demo_seeds_a_fresh_database(isolated_dirs: Path) -> None:
    db = isolated_dirs / "demo.db"
    assert main(["demo", "--seed-only", "--db", str(db)]) == 0
    first = _summary(db)
    assert first["statuses"] == set(STATUSES)
    # Run again: recreated, not doubled.
    assert main(["--db", str(db), "demo", "--seed-only"]) == 0
    assert _summary(db) == first


def test_demo_default_database_is_in_user_data_dir(isolated_dirs: Path) -> None:
    assert main(["demo", "--seed-only"]) == 0
    demo = isolated_dirs / "xdg-data" / "switchboard" / "demo.db"
    assert demo.exists()
    # The real default database was not created by the demo.
    assert not (demo.parent / "switchboard.db").exists()


def test_demo_refuses_a_database_it_did_not_make(isolated_dirs: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = isolated_dirs / "real.db"
    store = Store.open(str(db))
    channel = store.ensure_channel("webchat", "web")
    store.ingest(Inbound(channel.id, "c1", "c1", "real client", external_id="m1"))
    store.close()
    assert main(["demo", "--seed-only", "--db", str(db)]) == 1
    assert "did not create" in capsys.readouterr().err
    store = Store.open(str(db))
    try:
        assert store.count_tasks() == 1  # nothing lost
    finally:
        store.close()


def test_demo_on_postgres(pg_url: str) -> None:
    assert main(["demo", "--seed-only", "--db", pg_url]) == 0
    assert main(["demo", "--seed-only", "--db", pg_url]) == 0
    store = Store.open(pg_url)
    try:
        assert {t.status for t in store.list_tasks(limit=200).items} == set(STATUSES)
        assert store.count_tasks() == len(store.list_tasks(limit=200).items)
    finally:
        store.close()


def _summary(db: Path) -> dict[str, object]:
    store = Store.open(str(db))
    try:
        tasks = store.list_tasks(limit=500).items
        return {"statuses": {t.status for t in tasks}, "tasks": len(tasks),
                "replies": len(store.list_quick_replies())}
    finally:
        store.close()


def test_quick_replies_round_trip_through_files(isolated_dirs: Path) -> None:
    db = isolated_dirs / "qr.db"
    source = isolated_dirs / "in.yaml"
    items = [{"title": "Привет", "text": "Здравствуйте, {{contact.name}}!", "language": "ru",
              "tags": ["привет"]},
             {"title": "Hello", "text": "Hi {{contact.name}}", "language": "en", "tags": []}]
    source.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    assert main(["--db", str(db), "quick-replies", "import", str(source)]) == 0
    out = isolated_dirs / "out.yaml"
    assert main(["--db", str(db), "quick-replies", "export", str(out)]) == 0
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    key = lambda r: (r["language"], r["title"])  # noqa: E731
    assert sorted(exported, key=key) == sorted(items, key=key)
    assert "Здравствуйте" in out.read_text(encoding="utf-8")  # readable, not \u escapes


def test_quick_replies_stdin_stdout_and_malformed(isolated_dirs: Path) -> None:
    db = str(isolated_dirs / "qr.db")
    result = run_script("--db", db, "quick-replies", "import", "-",
                        stdin="- {title: Счёт, text: Счёт отправлен, language: ru}\n")
    assert result.returncode == 0, result.stderr
    bad = run_script("--db", db, "quick-replies", "import", "-",
                     stdin="- {title: ok, text: fine}\n- {title: missing text}\n")
    assert bad.returncode == 1 and "2" in bad.stderr
    bad = run_script("--db", db, "quick-replies", "import", "-", stdin="- [unclosed\n")
    assert bad.returncode == 1 and "YAML" in bad.stderr
    out = run_script("--db", db, "quick-replies", "export", "-")
    assert out.returncode == 0
    assert [r["title"] for r in yaml.safe_load(out.stdout)] == ["Счёт"]  # nothing else stored


def test_quick_replies_missing_file_is_clear(isolated_dirs: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    missing = isolated_dirs / "nope.yaml"
    assert main(["--db", str(isolated_dirs / "x.db"), "quick-replies", "import", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err


def test_bad_config_stops_the_console_before_anything_starts(
        isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_dirs / "bad.yaml"
    path.write_text("theme: neon\n")
    assert main(["--config", str(path)]) == 1
    assert f"{path}:1:8: theme:" in capsys.readouterr().err


def test_unreachable_database_is_a_clear_error(isolated_dirs: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://someone:pw-SECRET@127.0.0.1:1/nothing"
    assert main(["--db", url, "quick-replies", "export", "-"]) == 1
    err = capsys.readouterr().err
    assert "Cannot open the database" in err and "pw-SECRET" not in err


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:]]
    assert len(blocks) >= 2
    install_and_open, test_command = blocks[0], blocks[1]
    assert "\n" not in install_and_open and "switchboard demo" in install_and_open
    assert "\n" not in test_command and "pytest" in test_command
    assert test_command.endswith("pytest -q -n 2")  # parallel (pytest-xdist), as CI runs it
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def _console_config(tmp_path: Path) -> Path:
    path = tmp_path / "console.yaml"
    path.write_text("operator: {name: Анна, role: supervisor}\nserver: {host: 127.0.0.1, port: 0}\n"
                    "channels:\n  - {name: web, kind: webchat}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


async def test_bare_command_builds_the_console_with_an_in_process_gateway(
        isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.bootstrap import open_store
    from console.cli import make_console
    from console.config import load_config

    config = load_config(_console_config(isolated_dirs))
    store = open_store(config, str(isolated_dirs / "console.db"))
    try:
        app = make_console(store, config)
        # Nothing of the channels is built before the console's first frame (issue 20).
        assert capsys.readouterr().out == "" and app.gateway is None
        assert app.runs_gateway and app.operator.name == "Анна"
        async with app.run_test(size=(100, 30)) as pilot:
            deadline = time.monotonic() + 20
            while app.gateway is None or not app.gateway_addresses:
                assert time.monotonic() < deadline, "the gateway never came up"
                await pilot.pause(0.02)
            assert app.is_running
            assert any("http://127.0.0.1:" in a for a in app.gateway_addresses)  # web chat
        assert store.operator_by_name("Анна").role == "supervisor"
    finally:
        store.close()


async def test_console_on_postgres_has_no_gateway(isolated_dirs: Path, pg_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from console.bootstrap import open_store
    from console.cli import make_console
    from console.config import load_config

    config = load_config(_console_config(isolated_dirs))
    store = open_store(config, pg_url)
    try:
        app = make_console(store, config)
        assert app.gateway is None and capsys.readouterr().out == ""
        assert not app.runs_gateway
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.is_running
    finally:
        store.close()


def test_demo_refuses_a_postgres_database_it_did_not_make(pg_url: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(pg_url)  # a real desk: schema and one client
    channel = store.ensure_channel("webchat", "web")
    store.ingest(Inbound(channel.id, "c1", "c1", "real client", external_id="m1"))
    store.close()
    assert main(["demo", "--seed-only", "--db", pg_url]) == 1
    assert "did not create" in capsys.readouterr().err
    store = Store.open(pg_url)
    try:
        assert store.count_tasks() == 1
    finally:
        store.close()


def test_russian_messages(isolated_dirs: Path) -> None:
    path = isolated_dirs / "bad.yaml"
    path.write_text("channels:\n  - {name: tg, kind: telegramm}\n", encoding="utf-8")
    env = {**os.environ, "LANGUAGE": "ru", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([script(), "--config", str(path), "config", "check"],
                            capture_output=True, text=True, env=env, timeout=60, encoding="utf-8")
    assert result.returncode == 1
    assert "Ошибка в настройках" in result.stderr and "неизвестный тип канала" in result.stderr
    assert f"{path}:2:22: channels[0].kind:" in result.stderr


def test_compiled_catalog_matches_its_source() -> None:
    """The shipped .mo is what scripts/compile_translations.py makes of the .po."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import compile_translations as ct
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for po in ct.catalogs():
        assert po.with_suffix(".mo").read_bytes() == ct.compile_mo(ct.read_po(po)), (
            f"{po} changed: run python scripts/compile_translations.py")


def test_help_speaks_the_config_files_language(tmp_path: Path) -> None:
    """``language:`` in the config applies to ``--help`` too (the parser is built after it)."""
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    config.write_text("language: ru\n", encoding="utf-8")
    config.chmod(0o600)
    out = subprocess.run([sys.executable, "-m", "console.cli", "--config", str(config), "--help"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "HOME": str(tmp_path), "LANGUAGE": "en"})
    assert out.returncode == 0
    assert "консоль" in out.stdout

