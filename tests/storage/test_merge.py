"""Rules 4 and 5 — merging contacts and merging tasks."""

from __future__ import annotations

import threading

import pytest

from storage.errors import RuleViolation
from storage.events import Event
from storage.models import COMPLETED, EVENT, INBOUND, NOTE, OUTBOUND
from tests.storage.conftest import Desk, snapshot

# ---- rule 4: contacts --------------------------------------------------------------------


def _person_in_three_channels(desk: Desk) -> tuple[int, list[int], dict[int, int]]:
    """One person known as three contacts, merged: (survivor, losers, task per channel)."""
    a = desk.say(desk.telegram, "tg-1", "hi from telegram", display_name="Иван",
                 phone="+7 916 000-00-01")
    b = desk.say(desk.web, "web-1", "hi from web", display_name="Ivan P.", email="ivan@example.com")
    c = desk.say(desk.whatsapp, "+79160000001", "hi from whatsapp", phone="+79160000001")
    tasks = {desk.telegram: a.task.id, desk.web: b.task.id, desk.whatsapp: c.task.id}
    desk.store.merge_contacts(a.contact_id, b.contact_id, desk.maria)
    desk.store.merge_contacts(a.contact_id, c.contact_id, desk.maria)
    return a.contact_id, [b.contact_id, c.contact_id], tasks


def test_merge_moves_identities_phones_emails_and_tasks(desk: Desk) -> None:
    survivor, losers, tasks = _person_in_three_channels(desk)
    card = desk.store.contact_card(survivor)
    assert {i.channel_id for i in card.identities} == set(tasks)
    assert set(card.contact.phones) == {"+7 916 000-00-01", "+79160000001"}
    assert card.contact.emails == ("ivan@example.com",)
    assert {t.id for t in card.tasks} == set(tasks.values())
    assert all(desk.store.get_task(t).contact_id == survivor for t in tasks.values())
    assert sorted(c.id for c in card.absorbed) == sorted(losers)
    for loser in losers:
        assert desk.store.get_contact(loser).merged_into_id == survivor
        assert desk.store.contact_card(loser).contact.id == survivor  # leads to the survivor
    assert [c.id for c in desk.store.find_contacts("Ivan")] == [survivor]


def test_every_channel_keeps_working_after_merge(desk: Desk) -> None:
    survivor, _loser, tasks = _person_in_three_channels(desk)
    for channel, chat in ((desk.telegram, "tg-1"), (desk.web, "web-1"),
                          (desk.whatsapp, "+79160000001")):
        r = desk.say(channel, chat, "after merge")
        assert r.task.id == tasks[channel] and not r.created_task and not r.created_contact
        assert r.contact_id == survivor
        assert r.message.author_contact_id == survivor
        desk.store.reply(tasks[channel], desk.anna, "answer")
        assert desk.store.get_task(tasks[channel]).channel_id == channel
    items = {i.channel_id: i.chat_id for i in desk.store.claim_outbox(limit=10)}
    assert items == {desk.telegram: "tg-1", desk.web: "web-1", desk.whatsapp: "+79160000001"}


def test_after_merge_a_completed_channel_task_links_its_own_history(desk: Desk) -> None:
    survivor, _loser, tasks = _person_in_three_channels(desk)
    desk.store.set_status([tasks[desk.web]], COMPLETED)
    r = desk.say(desk.web, "web-1", "back")
    assert r.created_task and r.task.previous_task_id == tasks[desk.web]
    assert r.contact_id == survivor
    assert len(desk.store.contact_card(survivor).tasks) == 4


def test_merge_contact_into_itself_is_refused_and_changes_nothing(desk: Desk) -> None:
    a = desk.say(desk.telegram, "1").contact_id
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="itself"):
        desk.store.merge_contacts(a, a, desk.maria)
    assert snapshot(desk.store) == before


def test_merge_with_an_already_merged_contact_is_refused(desk: Desk) -> None:
    a = desk.say(desk.telegram, "1").contact_id
    b = desk.say(desk.web, "2").contact_id
    c = desk.say(desk.vk, "3").contact_id
    desk.store.merge_contacts(a, b)
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="already merged"):
        desk.store.merge_contacts(c, b)
    with pytest.raises(Exception, match="does not exist"):
        desk.store.merge_contacts(a, 9999)
    assert snapshot(desk.store) == before


def test_contact_merge_publishes_an_event(desk: Desk) -> None:
    a = desk.say(desk.telegram, "1").contact_id
    b = desk.say(desk.web, "2").contact_id
    heard = Heard("contact.merged")
    desk.store.bus.subscribe(heard)
    desk.store.merge_contacts(a, b, desk.maria)
    merged = heard.wait()
    assert merged[0].contact_id == a and merged[0].data["loser"] == b


# ---- rule 5: tasks -----------------------------------------------------------------------


def test_merge_tasks_interleaves_by_time_and_marks_moved(desk: Desk) -> None:
    target = desk.say(desk.telegram, "1", "t1", minute=10).task.id
    source = desk.say(desk.web, "2", "s1", minute=5).task.id
    desk.say(desk.telegram, "1", "t2", minute=30)
    desk.say(desk.web, "2", "s2", minute=20)
    desk.store.note(source, desk.anna, "note in source")
    merged = desk.store.merge_tasks(target, [source], desk.maria, different_clients_ok=True)
    thread = desk.store.thread_before(target).items
    texts = [m.text for m in thread if m.kind == INBOUND]
    assert texts == ["s1", "t1", "s2", "t2"]
    moved = {m.text for m in thread if m.moved_from_task_id == source}
    assert {"s1", "s2", "note in source"} <= moved
    assert all(m.moved_from_task_id is None for m in thread if m.text in ("t1", "t2"))
    times = [m.cursor for m in thread]
    assert times == sorted(times)
    assert merged.channel_id == desk.telegram and merged.chat_id == "1"  # target keeps its own
    assert desk.store.thread_count(source) == 1  # only the "merged into" event stays


def test_merged_source_is_closed_with_a_link_audit_and_events(desk: Desk) -> None:
    target = desk.say(desk.telegram, "1").task.id
    source = desk.say(desk.web, "2").task.id
    heard = Heard("task.merged")
    desk.store.bus.subscribe(heard)
    desk.store.merge_tasks(target, source, desk.maria, different_clients_ok=True)
    src = desk.store.get_task(source)
    assert src.status == COMPLETED and src.merged_into_id == target
    number = desk.store.get_task(target).number
    (closing,) = desk.store.thread_before(source).items
    assert closing.kind == EVENT and f"#{number}" in closing.text
    events = [m for m in desk.store.thread_before(target).items if m.meta.get("event") == "merged_from"]
    assert len(events) == 1 and f"#{src.number}" in events[0].text
    actions = [(a.action, a.operator_id) for a in desk.store.audit_for(target)]
    assert ("task_merged", desk.maria) in actions
    assert ("merged_into", desk.maria) in [(a.action, a.operator_id)
                                            for a in desk.store.audit_for(source)]
    (ev,) = heard.wait()
    assert ev.task_id == target and ev.data["sources"] == [source]
    with pytest.raises(RuleViolation):
        desk.store.reply(source, desk.anna, "into the closed source")


def test_source_client_writes_again_after_merge(desk: Desk) -> None:
    """The source's binding is released: its client's next message starts a new task."""
    target = desk.say(desk.telegram, "1").task.id
    source = desk.say(desk.web, "2").task.id
    desk.store.merge_tasks(target, [source], desk.maria, different_clients_ok=True)
    again = desk.say(desk.web, "2", "still there?")
    assert again.task.id not in (target, source)


def test_target_without_channel_takes_the_sources(desk: Desk) -> None:
    target = desk.say(desk.telegram, "1").task.id
    T = desk.store.m.Task
    T.update(channel=None, chat_id=None, bound_key=None).where(T.id == target).execute()
    source = desk.say(desk.web, "visitor", "from web").task.id
    merged = desk.store.merge_tasks(target, [source], desk.maria, different_clients_ok=True)
    assert (merged.channel_id, merged.chat_id) == (desk.web, "visitor")
    # The web visitor's next message lands in the merged task; replies go to the web chat.
    assert desk.say(desk.web, "visitor", "next").task.id == target
    assert desk.store.reply(target, desk.anna, "answer").channel_id == desk.web
    audit = [a for a in desk.store.audit_for(target) if a.action == "task_merged"]
    assert audit[0].detail["took_channel"] is True


def test_merge_task_into_itself_is_refused_and_changes_nothing(desk: Desk) -> None:
    a = desk.say(desk.telegram, "1").task.id
    b = desk.say(desk.web, "2").task.id
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="itself"):
        desk.store.merge_tasks(a, [a], desk.maria)
    with pytest.raises(RuleViolation, match="itself"):
        desk.store.merge_tasks(a, [b, a], desk.maria)
    with pytest.raises(RuleViolation):
        desk.store.merge_tasks(a, [], desk.maria)
    with pytest.raises(Exception, match="does not exist"):
        desk.store.merge_tasks(a, [b, 9999], desk.maria)
    assert snapshot(desk.store) == before


def test_merge_several_sources_and_no_double_merge(desk: Desk) -> None:
    target = desk.say(desk.telegram, "1", "t").task.id
    s1 = desk.say(desk.web, "2", "a").task.id
    s2 = desk.say(desk.vk, "3", "b").task.id
    desk.store.merge_tasks(target, [s1, s2], desk.maria, different_clients_ok=True)
    kinds = {m.kind for m in desk.store.thread_before(target).items}
    assert {INBOUND, EVENT} <= kinds and OUTBOUND not in kinds and NOTE not in kinds
    assert desk.store.get_task(target).unread_count == 3
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="already merged"):
        desk.store.merge_tasks(target, [s1], desk.maria)
    with pytest.raises(RuleViolation):
        desk.store.merge_tasks(s1, [target], desk.maria)
    assert snapshot(desk.store) == before


class Heard:
    """A bus subscriber that records every event and sets ``arrived`` (a threading.Event)
    when one of ``kind`` comes: PostgreSQL events arrive from the LISTEN thread."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.events: list[Event] = []
        self.arrived = threading.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if event.kind == self.kind:
            self.arrived.set()

    def wait(self, timeout: float = 5.0) -> list[Event]:
        assert self.arrived.wait(timeout), f"no {self.kind} event within {timeout} s"
        return [e for e in self.events if e.kind == self.kind]
