"""A throwaway project with this repository's import contracts, to prove they bite.

Every module a contract in ``pyproject.toml`` names is created empty (so no contract
fails for a missing module), then the given files are written over them, and
``lint-imports`` runs there."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("storage", "connectors", "widgets", "console")


def contract_modules() -> set[str]:
    """The project modules the contracts name (external packages left out)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names: set[str] = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        for key in ("source_modules", "forbidden_modules", "layers"):
            for entry in contract.get(key, ()):
                names.update(part.strip() for part in entry.split("|"))
    return {n for n in names if n.split(".")[0] in ROOMS and "." in n}


def lint_throwaway(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over a project of empty contract modules plus ``files``
    (``{"widgets/bad.py": "from storage.models import x"}``)."""
    for room in ROOMS:
        (tmp_path / room).mkdir()
        (tmp_path / room / "__init__.py").write_text("", encoding="utf-8")
    for name in contract_modules():
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    for relative, text in files.items():
        (tmp_path / relative).write_text(text + "\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={"PYTHONPATH": str(tmp_path)})
