"""Channel rules come from the plug-in registry, injected into the store; write-first is data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connectors.registry import PACKAGES, plugin, policies
from storage.channel_policy import (
    WRITE_FIRST_ALWAYS,
    WRITE_FIRST_CONSENT,
    WRITE_FIRST_NEVER,
    WRITE_FIRST_TEMPLATE,
    ChannelPolicy,
    Policies,
    write_first_refusal,
)
from storage.errors import CannotWriteFirst
from storage.inputs import Inbound
from storage.store import Store

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def rules(write_first: str, window: timedelta | None = None) -> ChannelPolicy:
    return ChannelPolicy("chat", 1000, idempotent_send=False, write_first=write_first,
                         window=window, title="Chat")


def refusal(policy: ChannelPolicy, *, last: timedelta | None = None, template: str | None = None,
            allows: bool = True) -> str | None:
    return write_first_refusal(policy, template=template, now=NOW, identity_allows=allows,
                               last_client_message_at=NOW - last if last is not None else None)


def test_never_without_a_window_always_refuses() -> None:
    reason = refusal(rules(WRITE_FIRST_NEVER), last=timedelta(minutes=1))
    assert reason == "A Chat bot cannot start a conversation: the client must write first."


def test_never_with_a_window_allows_only_inside_it() -> None:
    policy = rules(WRITE_FIRST_NEVER, window=timedelta(hours=24))
    assert refusal(policy, last=timedelta(hours=23)) is None
    assert "within 24 hours" in (refusal(policy, last=timedelta(hours=25)) or "")
    assert "within 24 hours" in (refusal(policy) or "")  # the client never wrote


def test_template_needs_a_template_whatever_the_window() -> None:
    policy = rules(WRITE_FIRST_TEMPLATE, window=timedelta(hours=24))
    assert "approved template" in (refusal(policy, last=timedelta(hours=1)) or "")
    assert refusal(policy, template="order_update") is None


def test_consent_follows_the_clients_permission() -> None:
    assert refusal(rules(WRITE_FIRST_CONSENT)) is None
    assert "has not allowed" in (refusal(rules(WRITE_FIRST_CONSENT), allows=False) or "")


def test_always_allows() -> None:
    assert refusal(rules(WRITE_FIRST_ALWAYS)) is None


def test_a_policy_with_an_unknown_mode_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="write_first"):
        rules("sometimes")


def test_registry_policies_are_the_plugins_with_their_titles_and_tags() -> None:
    found = policies()
    assert set(found) == set(PACKAGES)
    for kind, policy in found.items():
        declared = plugin(kind)
        assert policy.kind == kind
        assert replace(policy, title=declared.policy.title, tag=declared.policy.tag) == declared.policy
        assert policy.name == (declared.policy.title or declared.title or kind)
        assert policy.short_tag == (declared.policy.tag or declared.tag)[:3]
    assert (found["telegram"].short_tag, found["webchat"].short_tag) == ("TG", "WEB")
    assert found["telegram"].text_limit == 4096 and found["instagram"].limit_unit == "utf8_bytes"


def test_unknown_kinds_get_the_permissive_default() -> None:
    given = Policies({"telegram": policies()["telegram"]})
    assert given("telegram").write_first == WRITE_FIRST_NEVER
    other = given("carrier_pigeon")
    assert (other.text_limit, other.idempotent_send, other.window) == (None, False, None)
    with pytest.raises(ValueError):
        Policies({"telegram": policies()["vk"]})


def test_the_store_enforces_the_policies_it_was_given(store_url: str) -> None:
    """Same database, two stores: the rules are whatever was injected, not a table in storage."""
    strict_web = {**policies(), "webchat": ChannelPolicy(
        "webchat", 10, idempotent_send=True, write_first=WRITE_FIRST_NEVER, title="Web chat")}
    registry_store = Store.open(store_url, policies=policies())
    strict_store = Store.open(store_url, policies=strict_web)
    bare_store = Store.open(store_url)
    try:
        web = registry_store.ensure_channel("webchat", "web").id
        tg = registry_store.ensure_channel("telegram", "tg").id
        contact = registry_store.ingest(Inbound(web, "v1", "v1", "hello", external_id="w1")).contact_id
        tg_contact = registry_store.ingest(Inbound(tg, "500", "500", "hi", external_id="t1")).contact_id
        assert registry_store.policy("webchat").write_first == WRITE_FIRST_ALWAYS
        assert registry_store.write_first_refusal(contact, web) is None
        assert "Web chat bot cannot start" in (strict_store.write_first_refusal(contact, web) or "")
        with pytest.raises(CannotWriteFirst):
            strict_store.write_first(contact, web, None, "hello again")
        assert "Telegram bot cannot start" in (
            registry_store.write_first_refusal(tg_contact, tg) or "")
        assert bare_store.write_first_refusal(tg_contact, tg) is None  # nothing injected
        task = registry_store.find_message(tg, "t1")
        assert task is not None
        reply = registry_store.reply(task.task_id, None, "answer")
        assert reply.meta.get("text_limit") == 4096
        assert bare_store.reply(task.task_id, None, "again").meta.get("text_limit") is None
    finally:
        for opened in (registry_store, strict_store, bare_store):
            opened.close()
