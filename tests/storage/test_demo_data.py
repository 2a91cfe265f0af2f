"""The demo desk (console.demo_data) on both backends: it must show every case it claims."""

from __future__ import annotations

from console.demo_data import DEMO_MARK, seed_bulk, seed_demo
from storage.models import DELIVERY_STATES, MESSAGE_KINDS, STATUSES
from storage.store import Store


def test_demo_covers_every_case(store: Store) -> None:
    summary = seed_demo(store)
    assert store.get_state(DEMO_MARK)
    assert {t.status for t in store.list_tasks(limit=500).items} == set(STATUSES)
    thread = store.thread_before(summary.tasks["every_kind"], limit=500).items
    assert {m.kind for m in thread} == set(MESSAGE_KINDS)
    assert {m.delivery_state for m in thread if m.delivery_state} == set(DELIVERY_STATES)
    assert any(m.attachments for m in thread)
    assert any(m.failure_reason for m in thread)
    follow_up = store.get_task(summary.tasks["follow_up"])
    assert follow_up.previous_task_id == summary.tasks["completed"]
    assert f"#{store.get_task(summary.tasks['completed']).number}" in follow_up.description
    card = store.contact_card(summary.contacts["peter"])
    assert {t.id for t in card.tasks} >= {summary.tasks["peter_web"], summary.tasks["peter_telegram"]}
    assert len({i.channel_id for i in card.identities}) == 2 and card.absorbed
    source = store.get_task(summary.tasks["merged_source"])
    assert source.merged_into_id == summary.tasks["merged_target"]
    languages = {r.language for r in store.list_quick_replies()}
    assert languages == {"en", "ru"}
    names = [store.get_contact(c).name for c in summary.contacts.values()]
    assert any(any("а" <= ch <= "я" for ch in name.lower()) for name in names)  # Cyrillic
    assert store.search_quick_replies("счет", "ru")  # ё/е folding on demo data


def test_demo_gives_the_console_operator_work(store: Store) -> None:
    me = store.ensure_operator("Зоя", "operator")
    summary = seed_demo(store, operator_name="Зоя")
    assert store.get_task(summary.tasks["every_kind"]).assignee_id == me.id


def test_bulk_seed_makes_one_task_per_client(sqlite_store: Store) -> None:
    assert seed_bulk(sqlite_store, contacts=7, messages_per_contact=3, batch=5) == 21
    assert sqlite_store.count_tasks() == 7
    task = sqlite_store.list_tasks(limit=1).items[0]
    assert sqlite_store.thread_count(task.id) == 4  # created event + 3 messages
