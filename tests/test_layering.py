"""The rooms of docs/architecture.md, enforced three ways.

* ``lint-imports``: the import-linter contracts in pyproject.toml (rooms as layers,
  storage without UI or network, widgets without the ORM), over the whole import graph.

* Dynamically: a fresh interpreter imports every module of a room and then looks at
  ``sys.modules`` — this catches a forbidden import made indirectly, through a
  third-party package or another of our modules.
* Statically: every ``import`` statement in the room's files, including imports inside
  functions (a lazy import is still a dependency), is checked against the room's rules.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lint_project import lint_throwaway

ROOT = Path(__file__).resolve().parent.parent

# room → top-level packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "storage": {"textual", "rich", "aiohttp", "console", "widgets", "connectors"},
    "connectors": {"textual", "rich", "console", "widgets"},
    "widgets": {"console", "connectors", "aiohttp", "peewee", "psycopg2"},
}
# What widgets may take from storage: plain rows, constants, inputs, errors, i18n, text.
WIDGET_STORAGE_MODULES = {"storage.constants", "storage.errors", "storage.i18n",
                          "storage.inputs", "storage.rows", "storage.search.rows", "storage.text",
                          "storage.additional_data"}


def modules_of(room: str) -> list[str]:
    """Every importable module of a room (packages and their submodules)."""
    names = []
    for path in sorted((ROOT / room).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "__pycache__" in parts or any(p.startswith(".") for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def imported_packages(path: Path, package: tuple[str, ...] | None = None) -> list[tuple[int, str]]:
    """(line, top-level package) for every import in the file, relative ones resolved.

    ``package`` is the file's package as parts (default: from its place under ROOT)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                top = base[0] if base else (node.module or "").split(".")[0]
                found.append((node.lineno, top))
            elif node.module:
                found.append((node.lineno, node.module.split(".")[0]))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_static_imports_follow_the_room_rules(room: str) -> None:
    problems = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for line, top in imported_packages(path):
            if top in FORBIDDEN[room]:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
    assert not problems, f"{room}/ breaks the room rules:\n" + "\n".join(problems)


PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
forbidden = set(json.loads(sys.argv[2]))
for name in names:
    importlib.import_module(name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & forbidden)
print(json.dumps(loaded))
"""


@pytest.mark.parametrize("room", ["storage", "connectors"])
def test_importing_a_room_loads_no_ui(room: str) -> None:
    """Importing every module of storage/ (or connectors/) pulls in no textual or rich."""
    names = modules_of(room)
    assert len(names) > 1
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names), json.dumps(sorted(FORBIDDEN[room]))],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_importing_widgets_loads_no_console_or_connectors() -> None:
    names = modules_of("widgets")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names), json.dumps(sorted(FORBIDDEN["widgets"]))],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_static_check_can_fail(tmp_path: Path) -> None:
    """The checker sees plain, from-, relative and lazy imports (so a pass means something)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import textual.app\nfrom rich.text import Text\nfrom .sibling import x\n"
                     "def lazy():\n    import aiohttp\n    importlib.import_module('widgets.x')\n",
                     encoding="utf-8")
    found = imported_packages(probe, package=("connectors",))
    assert [top for _line, top in found] == ["textual", "rich", "connectors", "aiohttp", "widgets"]
    assert [line for line, _top in found] == [1, 2, 3, 5, 6]
    tops = {top for _line, top in found}
    assert tops & FORBIDDEN["storage"] == {"textual", "rich", "aiohttp", "widgets", "connectors"}


def test_console_is_the_only_wiring() -> None:
    """Nothing outside console/ (and tests) imports console: it sits on top."""
    problems = []
    for room in ("storage", "connectors", "widgets", "themes"):
        for path in sorted((ROOT / room).rglob("*.py")):
            problems += [f"{path.relative_to(ROOT)}:{line}" for line, top in
                         imported_packages(path) if top == "console"]
    assert not problems, problems


def test_import_contracts_hold() -> None:
    """``lint-imports`` (import-linter) keeps every contract in pyproject.toml."""
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), "import-linter is part of the test extra (pip install -e '.[test]')"
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "Contracts: 5 kept" in result.stdout


def test_lint_imports_can_fail(tmp_path: Path) -> None:
    """The contracts bite: a widget importing the ORM breaks one."""
    result = lint_throwaway(tmp_path, {"storage/models.py": "import peewee",
                                       "widgets/bad.py": "from storage.models import x"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "widgets is not allowed to import storage.models" in result.stdout


ORM_PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
heavy = ("peewee", "psycopg2", "storage.models", "storage.store", "storage.database")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def test_importing_the_widgets_loads_no_orm() -> None:
    """widgets.task_list, and every other widget module, load no peewee or psycopg2."""
    for names in (["widgets.task_list"], modules_of("widgets")):
        result = subprocess.run([sys.executable, "-c", ORM_PROBE, json.dumps(names)],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == [], names


def test_widgets_take_only_plain_modules_from_storage() -> None:
    problems = []
    for path in sorted((ROOT / "widgets").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.split(".")[0] == "storage" and name not in WIDGET_STORAGE_MODULES:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not problems, problems
