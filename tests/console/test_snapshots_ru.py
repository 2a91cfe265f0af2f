"""The console in Russian at 80×24: a snapshot, and every footer key whole.

Key labels are translated when their modules are imported, so the console runs in a
fresh interpreter that sets the language first (as ``console.cli`` does in production);
the parent builds the data. The snapshot is the SVG ``App.export_screenshot()`` draws,
compared with the stored one in ``__snapshots__/test_snapshots_ru/`` (regenerate with
``pytest tests/console/test_snapshots_ru.py --snapshot-update`` after a deliberate UI
change, and review the SVG). Same determinism as ``test_snapshots.py``: pinned message
times, frozen clock, UTC, no cursor blink, no toasts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pytest_textual_snapshot import normalize_svg

from connectors.registry import policies
from storage.store import Store
from tests.console.fixtures.scenes import busy
from tests.console.test_fit_80x24 import assert_whole

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots_ru"

_CHILD = textwrap.dedent("""
    import asyncio, json, sys
    from datetime import UTC
    from storage.i18n import set_language
    set_language("ru")                 # before any console module: bindings translate on import
    from textual.widgets._footer import FooterKey
    from connectors.registry import policies
    from console.app import SwitchboardApp
    from console.config import Config, OperatorConfig
    from storage.store import Store
    from tests.console.conftest import frozen_clock, settle
    from tests.console.test_snapshots import steady
    from widgets.key_footer import KeyFooter
    from widgets.task_list import TaskList

    def footer(app):
        keys = app.screen.query_one(KeyFooter).query(FooterKey)
        labels = [f"{k.key_display} {k.description}".strip() for k in keys]
        strips = app.screen._compositor.render_strips()
        return labels, "".join(s.text for s in strips[-1])

    async def main():
        store = Store.open(sys.argv[1], policies=policies())
        operator = store.ensure_operator("Anna", "operator")
        config = Config(operator=OperatorConfig("Anna", "operator"), language="ru")
        app = SwitchboardApp(store, config, operator, clock=frozen_clock)
        app.timezone = UTC
        out = {}
        async with app.run_test(size=(80, 24)) as pilot:
            await steady(pilot)
            out["list"] = footer(app)
            app.screen.query_one(TaskList).select_task_id(int(sys.argv[2]))
            await settle(pilot, rounds=1)
            await pilot.press("enter")
            await steady(pilot)
            out["task"] = footer(app)
            out["svg"] = app.export_screenshot()
        store.close()
        print(json.dumps(out))

    asyncio.run(main())
""")


@pytest.fixture(scope="module")
def russian_console(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The Russian console at 80×24, run once in a fresh interpreter: footers and SVG."""
    path = tmp_path_factory.mktemp("ru") / "ru.db"
    store = Store.open(str(path), policies=policies())
    try:
        task = busy(store).tasks["olga"]
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "C.UTF-8"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(task)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("view", ["list", "task"])
def test_footer_labels_are_whole_in_russian(russian_console: dict, view: str) -> None:
    labels, line = russian_console[view]
    assert_whole(labels, line)
    assert "f1 Справка" in labels and "^p команды" in labels
    assert "Help" not in line and "palette" not in line


def test_80x24_task_open_in_russian(russian_console: dict,
                                    request: pytest.FixtureRequest) -> None:
    actual = normalize_svg(russian_console["svg"])
    stored = SNAPSHOTS / "test_80x24_task_open_in_russian.svg"
    if request.config.option.update_snapshots:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(actual, encoding="utf-8")
    assert stored.exists(), f"no stored snapshot: run with --snapshot-update ({stored})"
    assert "Ответ" in actual  # the composer's title, translated
    assert actual == stored.read_text(encoding="utf-8"), (
        "the Russian 80×24 screen changed; review and regenerate with --snapshot-update")
