"""The store is a core with one service per concern; its public API is a typed facade.

These tests keep the facade and the connectors' protocol in step with the services."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from storage.core import StoreCore
from storage.ports import ConnectorStore
from storage.store import Store

SERVICES = ("reads", "triage", "ingesting", "replies", "outbox", "merging", "tasks",
            "scheduling", "quick_replies", "state")
INTERNAL = {"window_meta", "task_select", "filtered", "task_from", "message_rows",
            "message_select", "conversation_query"}  # helpers services share, not API


def _public(obj: object) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(obj)
            if not name.startswith("_") and inspect.ismethod(member)}


def test_every_service_method_is_on_the_facade_with_its_signature(store: Store) -> None:
    facade = _public(store)
    seen: set[str] = set()
    for attr in SERVICES:
        service = getattr(store, attr)
        assert service.core is store
        for name, signature in _public(service).items():
            if name in INTERNAL:
                continue
            assert name not in seen, f"{name} is in two services"
            seen.add(name)
            assert name in facade, f"store.{name} is missing (store.{attr}.{name})"
            assert facade[name] == signature, (name, facade[name], signature)


def test_the_facade_only_delegates() -> None:
    """Store adds no rule of its own: every public method it defines is one ``return
    self.<service>.<same name>(...)``."""
    tree = ast.parse(inspect.getsource(Store))
    methods = [f for f in tree.body[0].body  # type: ignore[attr-defined]
               if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")
               and not f.decorator_list]
    assert len(methods) > 50
    for f in methods:
        assert len(f.body) == 1 and isinstance(f.body[0], ast.Return), f.name
        call = f.body[0].value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute), f.name
        assert call.func.attr == f.name, f.name
        owner = call.func.value
        assert isinstance(owner, ast.Attribute) and owner.attr in SERVICES, f.name
        assert isinstance(owner.value, ast.Name) and owner.value.id == "self", f.name


def test_the_store_satisfies_the_connectors_protocol(store: Store) -> None:
    members = [n for n in dir(ConnectorStore) if not n.startswith("_")]
    assert {"ingest", "mark_delivery", "get_state", "set_state"} <= set(members)
    for name in members:
        wanted = getattr(ConnectorStore, name)
        assert hasattr(store, name), name
        if inspect.isfunction(wanted):
            have = inspect.signature(getattr(store, name))
            expected = inspect.signature(wanted)
            assert list(have.parameters) == [p for p in expected.parameters if p != "self"], name
            if name != "transaction":  # a @contextmanager: Iterator[Tx] in the source
                assert str(have.return_annotation) == str(expected.return_annotation), name


def test_no_mixins_and_no_type_ignores_between_services() -> None:
    assert Store.__mro__ == (Store, StoreCore, object)
    root = Path(__file__).resolve().parents[2] / "storage"
    for name in ("core", "store", "reading", "triage", "ingesting", "replies", "outbox_queue",
                 "merging", "task_admin", "scheduling", "quick_replies", "durable_state",
                 "task_update", "ingest_fast", "drafts"):
        text = (root / f"{name}.py").read_text(encoding="utf-8")
        assert "type: ignore[attr-defined]" not in text, name
        assert len(text.splitlines()) <= 400, name


def test_opening_a_store_does_not_load_the_rules_engine(tmp_path) -> None:  # noqa: ANN001
    """The side tables are created at open from their own light module: opening the
    store (every console start) neither imports the rules engine nor pydantic."""
    import subprocess
    import sys

    probe = ("import sys\nfrom storage.store import Store\n"
             f"Store.open({str(tmp_path / 'x.db')!r}).close()\n"
             "print(sorted(m for m in ('storage.rules', 'pydantic') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
