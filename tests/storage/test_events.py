"""Change events: published after commit and never on rollback, on both transports;
on PostgreSQL they cross connections (a second Store on the same database hears them)."""

from __future__ import annotations

import threading

import pytest

from storage.errors import RuleViolation
from storage.events import Event
from storage.inputs import Inbound
from storage.store import Store
from tests.storage.conftest import Desk


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 5.0) -> list[Event]:  # type: ignore[no-untyped-def]
        with self.changed:
            self.changed.wait_for(lambda: predicate(self.events), timeout)
            return list(self.events)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def test_ingest_and_reply_publish_events(desk: Desk) -> None:
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    r = desk.say(desk.telegram, "1", "hi")
    msg = desk.store.reply(r.task.id, desk.anna, "hello")
    events = rec.wait_for(lambda ev: any(e.kind == "outbox.queued" for e in ev))
    stored = [e for e in events if e.kind == "message.stored"]
    assert r.message.id in [e.message_id for e in stored]
    assert msg.id in [e.message_id for e in stored]
    assert any(e.kind == "task.created" and e.task_id == r.task.id for e in events)
    assert [e.message_id for e in events if e.kind == "outbox.queued"] == [msg.id]


def test_events_are_published_after_commit(desk: Desk, store_url: str) -> None:
    """When a subscriber hears of a message, another connection can already read it."""
    reader = Store.open(store_url)
    seen: list[bool] = []
    heard = threading.Event()  # set by the subscriber (on the LISTEN thread on PostgreSQL)

    def check(event: Event) -> None:
        if event.kind == "message.stored" and event.message_id is not None:
            seen.append(reader.m.Message.get_or_none(reader.m.Message.id == event.message_id)
                        is not None)
            heard.set()

    desk.store.bus.subscribe(check)
    try:
        desk.say(desk.web, "1", "visible?")
        assert heard.wait(5), "no message.stored event within 5 s"
        assert seen and all(seen)
    finally:
        reader.close()


def test_nothing_is_published_on_rollback(desk: Desk) -> None:
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    with pytest.raises(RuntimeError):
        with desk.store.transaction() as tx:
            desk.store.ensure_operator("Ghost", "operator")  # joins the outer transaction
            tx.emit("task.updated", task_id=424242)
            raise RuntimeError("boom")
    assert desk.store.operator_by_name("Ghost") is None
    marker = desk.say(desk.web, "after", "after")  # a later event proves delivery works
    events = rec.wait_for(lambda ev: any(e.message_id == marker.message.id for e in ev))
    assert not any(e.task_id == 424242 for e in events)


def test_a_refused_operation_publishes_nothing(desk: Desk) -> None:
    a = desk.say(desk.web, "1").contact_id
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    with pytest.raises(RuleViolation):
        desk.store.merge_contacts(a, a)
    marker = desk.say(desk.web, "2")
    events = rec.wait_for(lambda ev: any(e.message_id == marker.message.id for e in ev))
    assert "contact.merged" not in [e.kind for e in events]


def test_unsubscribe_stops_delivery(desk: Desk) -> None:
    rec, other = Recorder(), Recorder()
    stop = desk.store.bus.subscribe(rec)
    desk.store.bus.subscribe(other)
    stop()
    r = desk.say(desk.web, "1")
    other.wait_for(lambda ev: any(e.message_id == r.message.id for e in ev))
    assert rec.events == []


def test_a_failing_subscriber_does_not_break_the_store(desk: Desk) -> None:
    def broken(event: Event) -> None:
        raise ValueError("subscriber bug")

    rec = Recorder()
    desk.store.bus.subscribe(broken)
    desk.store.bus.subscribe(rec)
    r = desk.say(desk.web, "1")
    assert rec.wait_for(lambda ev: any(e.message_id == r.message.id for e in ev))
    assert desk.store.get_message(r.message.id).text == "hello"


@pytest.mark.postgres
def test_postgres_events_cross_connections(pg_url: str) -> None:
    writer, listener = Store.open(pg_url), Store.open(pg_url)
    try:
        rec = Recorder()
        listener.bus.subscribe(rec)
        channel = writer.ensure_channel("webchat", "web")
        r = writer.ingest(Inbound(channel.id, "c", "c", "Привет через NOTIFY", external_id="n-1"))
        events = rec.wait_for(lambda ev: any(e.message_id == r.message.id for e in ev))
        (stored,) = [e for e in events if e.kind == "message.stored"
                     and e.message_id == r.message.id]
        assert stored.task_id == r.task.id and stored.contact_id == r.contact_id
        # A rolled-back transaction sends nothing across either.
        with pytest.raises(RuntimeError):
            with writer.transaction() as tx:
                tx.emit("task.updated", task_id=424242)
                raise RuntimeError("boom")
        writer.reply(r.task.id, None, "after rollback")
        events = rec.wait_for(lambda ev: any(e.kind == "outbox.queued" for e in ev))
        assert not any(e.task_id == 424242 for e in events)
    finally:
        writer.close()
        listener.close()
