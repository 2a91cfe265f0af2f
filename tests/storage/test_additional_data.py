"""Issue 13: system keys are the system's (both ingest paths); labels; the Planfix alias."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.additional_data import CLIENT_KEY, flatten, is_reserved, label, merge
from storage.ingest_fast import FastIngest
from storage.inputs import Inbound
from storage.models import COMPLETED
from storage.store import Store
from storage.templates import expand
from tests.storage.conftest import Desk

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
HOSTILE = {"channel": "telegram", "channel_kind": "telegram", "previous_task": 1,
           "page": "https://evil.example", "utm_source": "spoof", "client": "x", "name": "Ivan"}


def test_merge_rule() -> None:
    existing = {"channel": "api", "channel_kind": "generic", "page": "/a"}
    data = merge(existing, {"channel": "x", "previous_task": 9, "client": {"a": 1},
                            "merged_into": 3, "page": "/b", "utm_source": "ads", "empty": ""},
                 {"channel": "telegram", "utm_source": "spoof", "note": "hi", "blank": None})
    assert data == {"channel": "api", "channel_kind": "generic", "page": "/b",
                    "utm_source": "ads", CLIENT_KEY: {"channel": "telegram",
                                                      "utm_source": "spoof", "note": "hi"}}
    assert existing == {"channel": "api", "channel_kind": "generic", "page": "/a"}  # untouched
    more = merge(data, None, {"note": "again", "lang": "ru"})
    assert more[CLIENT_KEY] == {"channel": "telegram", "utm_source": "spoof", "note": "again",
                                "lang": "ru"}
    assert merge({}, None, {"text": "a\x00b"})[CLIENT_KEY] == {"text": "a\ufffdb"}


def test_reserved_keys_and_labels() -> None:
    for key in ("channel", "channel_kind", "previous_task", "page", "referrer", "utm_source",
                "utm_whatever", "phone", "username", "language", CLIENT_KEY):
        assert is_reserved(key), key
    assert not is_reserved("order_id")
    assert label("utm_source") == "UTM source"
    assert label("utm_partner") == "UTM partner"
    assert label("order_id") == "order_id"
    assert label(CLIENT_KEY) == "Data from the client"
    assert flatten({"page": "/a", "channel": "web", CLIENT_KEY: {"b": 2, "a": 1}}) == [
        ("channel", "web"), ("page", "/a"), ("client.a", 1), ("client.b", 2)]


def _inbounds(channel: int) -> list[Inbound]:
    """A first message (general path) and two more from the known client (fast path)."""
    return [
        Inbound(channel, "c1", "c1", "first", external_id="1", sent_at=T0, display_name="Ivan",
                system_data={"page": "/a", "channel": "forged", "previous_task": 7},
                client_data=HOSTILE),
        Inbound(channel, "c1", "c1", "second", external_id="2", sent_at=T0 + timedelta(minutes=1),
                system_data={"utm_source": "ads", "channel_kind": "forged", "client": "forged"},
                client_data={"channel": "telegram", "order": "A-1"}),
        Inbound(channel, "c1", "c1", "third", external_id="3", sent_at=T0 + timedelta(minutes=2),
                client_data={"previous_task": 99}),
    ]


def _ingest_counting_fast(store: Store, inbounds: list[Inbound]) -> tuple[int, dict[str, Any]]:
    """Ingest; returns how many took the fast path, and the task's additional data."""
    fast: FastIngest = store.ingesting.fast
    taken = 0
    original = fast.try_ingest

    def counting(inbound: Inbound, looked: Any) -> Any:
        nonlocal taken
        done = original(inbound, looked)
        taken += done is not None
        return done

    fast.try_ingest = counting  # type: ignore[method-assign]
    try:
        results = [store.ingest(i) for i in inbounds]
    finally:
        fast.try_ingest = original  # type: ignore[method-assign]
    return taken, store.get_task(results[-1].task.id).additional_data


@pytest.mark.parametrize("fast_path", [True, False])
def test_client_data_never_overwrites_system_data(store: Store, fast_path: bool) -> None:
    ch = store.ensure_channel("generic", "api", {})
    inbounds = _inbounds(ch.id)
    if not fast_path:
        store.ingesting.fast.try_ingest = lambda *a, **k: None  # type: ignore[method-assign]
    taken, data = _ingest_counting_fast(store, inbounds)
    assert taken == (2 if fast_path else 0)
    assert data["channel"] == "api" and data["channel_kind"] == "generic"
    assert "previous_task" not in data
    assert data["page"] == "/a" and data["utm_source"] == "ads"
    assert data[CLIENT_KEY] == {**HOSTILE, "channel": "telegram", "order": "A-1",
                                "previous_task": 99}


def test_a_follow_up_tasks_link_cannot_be_forged(desk: Desk) -> None:
    first = desk.say(desk.web, "v", "hi").task
    desk.store.set_status([first.id], COMPLETED)
    again = desk.say(desk.web, "v", "back", system_data={"previous_task": 12345},
                     client_data={"previous_task": 54321})
    assert again.created_task
    assert again.task.additional_data["previous_task"] == first.number
    assert again.task.previous_task_id == first.id
    assert again.task.additional_data[CLIENT_KEY] == {"previous_task": 54321}


# ---- templates ---------------------------------------------------------------------------------


def test_planfix_variable_is_an_alias_of_the_additional_data(desk: Desk) -> None:
    r = desk.say(desk.web, "v", "hi", system_data={"page": "https://shop.example/pay"},
                 client_data={"order": "A-1"})
    ctx = desk.store.template_context(r.task.id, desk.anna)
    english = expand("{{task.additional_data}}", ctx)
    assert "page: https://shop.example/pay" in english and "client.order: A-1" in english
    assert expand("{{Задача.Дополнительные данные описания}}", ctx) == english
    assert expand("Данные: {{ Задача.Дополнительные  данные описания }}.", ctx) == (
        f"Данные: {english}.")
    assert expand("{{task.additional_data.client.order}}", ctx) == "A-1"
    reply = desk.store.add_quick_reply("Данные", "{{Задача.Дополнительные данные описания}}", "ru")
    assert desk.store.expand_quick_reply(reply.id, r.task.id, desk.anna) == english
