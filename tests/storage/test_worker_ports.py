"""The workers' store protocols (storage/ports.py) against the real Store.

The outbox worker, the automation worker and the gateway take a narrow protocol each;
the real :class:`storage.store.Store` must satisfy every one of them structurally (the
same names, parameters, defaults and return types), the workers must call nothing
outside their protocol, and the protocols must load no ORM."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storage.ports import (
    AutomationStore,
    ConnectorStore,
    GatewayStore,
    IngestStore,
    LeaseHost,
    OutboxStore,
)
from storage.rows import OutboxItem
from storage.store import Store
from tests.lint_project import lint_throwaway

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = (ConnectorStore, IngestStore, OutboxStore, AutomationStore, LeaseHost,
             GatewayStore)
# A @contextmanager reads ``Iterator[Tx]`` in the source: its return type is not compared.
CONTEXT_MANAGERS = {"transaction"}


def members(protocol: type) -> dict[str, str]:
    """Every member of ``protocol`` (its bases included): name → method/property/attribute."""
    found: dict[str, str] = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or cls.__module__ == "typing":
            continue
        for name in getattr(cls, "__annotations__", {}):
            found[name] = "attribute"
        for name, value in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property):
                found[name] = "property"
            elif inspect.isfunction(value):
                found[name] = "method"
    return found


def mismatches(protocol: type, cls: type, instance: Any) -> list[str]:
    """What ``cls`` (and one ``instance`` of it) lacks or has differently from ``protocol``."""
    problems = []
    for name, kind in members(protocol).items():
        if not hasattr(instance, name):
            problems.append(f"{name}: missing")
            continue
        if kind != "method":
            continue
        have = getattr(cls, name, None)
        if not callable(have):
            problems.append(f"{name}: not a method")
            continue
        wanted = inspect.signature(getattr(protocol, name))
        got = inspect.signature(have)
        shape = [(p.name, p.kind, p.default) for p in got.parameters.values()]
        expected = [(p.name, p.kind, p.default) for p in wanted.parameters.values()]
        if shape != expected:
            problems.append(f"{name}: parameters {shape} != {expected}")
        if name not in CONTEXT_MANAGERS and (
                str(got.return_annotation) != str(wanted.return_annotation)):
            problems.append(f"{name}: returns {got.return_annotation} != "
                            f"{wanted.return_annotation}")
    return problems


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.__name__)
def test_the_store_satisfies_each_protocol(protocol: type, sqlite_store: Store) -> None:
    assert members(protocol), protocol
    assert mismatches(protocol, Store, sqlite_store) == []
    assert isinstance(sqlite_store, protocol)


def test_the_gateway_protocol_is_the_union_of_what_it_hands_on() -> None:
    union: dict[str, str] = {}
    for part in (ConnectorStore, IngestStore, OutboxStore, LeaseHost):
        union |= members(part)
    assert members(GatewayStore) == union
    assert {"claim_outbox", "schedule_retry", "recover_outbox", "mark_unserved"} <= set(
        members(OutboxStore))
    assert set(members(AutomationStore)) == {"bus", "end_snoozes", "next_snooze_end"}


def test_the_check_catches_a_store_that_drifted(sqlite_store: Store) -> None:
    """A store whose method lost a default, or changed its return type, is caught."""

    class Drifted(Store):
        def claim_outbox(self, limit: int, now: Any = None,  # type: ignore[override]
                         channel_ids: Any = None) -> list[OutboxItem]:
            return []

        def next_outbox_due(self) -> None:  # type: ignore[override]
            return None

    problems = mismatches(OutboxStore, Drifted, sqlite_store)
    assert [p.split(":")[0] for p in problems] == ["claim_outbox", "next_outbox_due"]

    class Missing:
        bus = sqlite_store.bus

    assert not isinstance(Missing(), AutomationStore)
    assert mismatches(AutomationStore, Missing, Missing()) == [
        "end_snoozes: missing", "next_snooze_end: missing"]


def store_calls(module: str) -> set[str]:
    """The names a module reads off ``self.store`` or a ``store`` argument."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    calls = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Attribute) and owner.attr == "store"
                and isinstance(owner.value, ast.Name) and owner.value.id == "self") or (
                isinstance(owner, ast.Name) and owner.id == "store"):
            calls.add(node.attr)
    return calls


@pytest.mark.parametrize(("module", "protocol"), [
    ("connectors/outbox.py", OutboxStore),
    ("connectors/automation.py", AutomationStore),
    ("connectors/gateway.py", GatewayStore),
], ids=["outbox", "automation", "gateway"])
def test_each_worker_calls_only_its_protocol(module: str, protocol: type) -> None:
    calls = store_calls(module)
    assert calls <= set(members(protocol)), calls - set(members(protocol))
    if module.endswith("outbox.py"):  # the scan sees the calls (it is not vacuous)
        assert {"claim_outbox", "recover_outbox", "next_outbox_due", "bus"} <= calls


PROBE = """
import json, sys
import storage.ports
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("peewee", "psycopg2")
                        or m in ("storage.models", "storage.store", "storage.database",
                                 "storage.core"))))
"""


def test_the_protocols_load_no_orm() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_contract_bites_for_the_workers(tmp_path: Path) -> None:
    """A worker importing the Store breaks the store-protocol contract."""
    result = lint_throwaway(tmp_path, {
        "connectors/writer.py": "import storage.store",
        "connectors/outbox.py": "import connectors.writer",
        "connectors/gateway.py": "from storage.store import Store"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "connectors.gateway is not allowed to import storage.store" in result.stdout
    # The writer takes IngestStore now: no waiver, a worker reaching the Store through it
    # breaks the contract too.
    assert "connectors.outbox is not allowed to import storage.store" in result.stdout
