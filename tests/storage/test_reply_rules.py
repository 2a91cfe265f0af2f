"""Issue 13: channel limits and reply windows are checked before anything is queued;
the ownership notice names the other operator or the state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from connectors.registry import policies
from storage.channel_policy import LIMIT_UTF8_BYTES
from storage.errors import TooLong, WindowClosed
from storage.models import CANCELLED, COMPLETED, DONE, OUTBOUND, QUEUED, WAITING
from storage.split import measure, split_text
from storage.store import Store
from tests.storage.conftest import Desk, snapshot

DAY = 24 * 60  # minutes; the desk's clock starts a day ago


# ---- splitting (pure) ------------------------------------------------------------------------


def test_split_breaks_between_words_and_keeps_every_word() -> None:
    text = " ".join(f"word{n}" for n in range(40))
    parts = split_text(text, 50, "chars")
    assert len(parts) > 1 and all(len(p) <= 50 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert all(p == p.strip() for p in parts)


def test_split_counts_utf8_bytes_and_cuts_a_giant_word_between_characters() -> None:
    text = "Привет " * 30 + "ё" * 40
    parts = split_text(text, 60, LIMIT_UTF8_BYTES)
    assert all(measure(p, LIMIT_UTF8_BYTES) <= 60 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert split_text("short", 60, LIMIT_UTF8_BYTES) == ["short"]


# ---- limits in the store ---------------------------------------------------------------------


def test_a_long_telegram_reply_is_queued_in_parts_to_the_same_chat(desk: Desk) -> None:
    task = desk.say(desk.telegram, "777").task.id
    text = ("Lorem ipsum dolor sit amet. " * 300).strip()  # 8399 chars; Telegram: 4096
    parts = desk.store.reply_parts(task, text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    first = desk.store.reply(task, desk.anna, text)
    queued = [m for m in desk.store.thread_before(task).items if m.kind == OUTBOUND]
    assert [m.text for m in queued] == parts and queued[0].id == first.id
    assert [m.meta["part"] for m in queued] == [1, 2, 3]
    assert all((m.channel_id, m.chat_id, m.delivery_state) == (desk.telegram, "777", QUEUED)
               for m in queued)
    sent = []
    while items := desk.store.claim_outbox(limit=10):
        (item,) = items  # one at a time, in order
        sent.append(item.text)
        desk.store.mark_sent(item.message_id, None)
    assert sent == parts


def test_instagram_counts_bytes(desk: Desk) -> None:
    insta = desk.store.ensure_channel("instagram", "insta").id
    task = desk.say(insta, "ig-1", minute=DAY - 5).task.id
    text = "Здравствуйте " * 60  # 780 characters, 1500 bytes: over Instagram's 1,000 bytes
    parts = desk.store.reply_parts(task, text)
    assert len(parts) == 2 and all(len(p.encode()) <= 1000 for p in parts)


def test_over_the_limit_where_splitting_is_not_allowed_is_refused(desk: Desk,
                                                                  store_url: str) -> None:
    rules = policies()
    rules["telegram"] = replace(rules["telegram"], split_long=False)
    strict = Store.open(store_url, policies=rules)
    try:
        task = desk.say(desk.telegram, "777").task.id
        before = snapshot(strict)
        with pytest.raises(TooLong, match="4096") as err:
            strict.reply(task, desk.anna, "x" * 5000)
        assert "Telegram" in str(err.value) and "5000" in str(err.value)
        with pytest.raises(TooLong):
            strict.reply_parts(task, "x" * 5000)
        assert snapshot(strict) == before
        assert strict.reply_parts(task, "fits") == ["fits"]
    finally:
        strict.close()


def test_a_private_note_has_no_channel_limit(desk: Desk) -> None:
    task = desk.say(desk.telegram, "777").task.id
    note = desk.store.note(task, desk.anna, "n " * 5000)
    assert len(note.text) == 10000


# ---- reply windows ---------------------------------------------------------------------------


@pytest.fixture
def meta_channels(desk: Desk) -> Iterator[dict[str, int]]:
    yield {"instagram": desk.store.ensure_channel("instagram", "insta").id,
           "facebook": desk.store.ensure_channel("facebook", "fb").id}


def test_whatsapp_refuses_a_reply_after_24_hours_unless_a_template(desk: Desk) -> None:
    task = desk.say(desk.whatsapp, "+4470", minute=0).task.id  # a day and a bit ago
    before = snapshot(desk.store)
    with pytest.raises(WindowClosed) as err:
        desk.store.reply(task, desk.anna, "hello?")
    assert "WhatsApp" in str(err.value) and "24 hours" in str(err.value)
    assert snapshot(desk.store) == before
    row = desk.store.reply(task, desk.anna, "Your order shipped", meta={"template": "order"})
    assert row.meta["template"] == "order" and row.delivery_state == QUEUED


def test_inside_the_window_a_reply_is_queued(desk: Desk) -> None:
    task = desk.say(desk.whatsapp, "+4470", minute=DAY - 60).task.id  # an hour ago
    assert desk.store.reply(task, desk.anna, "hi").delivery_state == QUEUED


def test_meta_channels_tag_a_late_reply_human_agent_within_seven_days(
        desk: Desk, meta_channels: dict[str, int]) -> None:
    for kind, channel in meta_channels.items():
        late = desk.say(channel, f"{kind}-late", minute=-2 * DAY).task.id  # three days ago
        row = desk.store.reply(late, desk.anna, "sorry for the wait")
        assert row.meta["tag"] == "HUMAN_AGENT"
        fresh = desk.say(channel, f"{kind}-fresh", minute=DAY - 10).task.id
        assert "tag" not in desk.store.reply(fresh, desk.anna, "hi").meta
        gone = desk.say(channel, f"{kind}-gone", minute=-8 * DAY).task.id  # nine days ago
        with pytest.raises(WindowClosed, match="24 hours"):
            desk.store.reply(gone, desk.anna, "hello?")


def test_the_window_follows_the_replys_own_chat_not_the_merged_in_one(desk: Desk) -> None:
    """A merged-in client's recent message does not open the target client's window."""
    old = desk.say(desk.whatsapp, "+100", "old", minute=0, display_name="Old").task.id
    fresh = desk.say(desk.web, "visitor", "fresh", minute=DAY - 1, display_name="New").task.id
    desk.store.merge_tasks(old, [fresh], desk.maria, different_clients_ok=True)
    with pytest.raises(WindowClosed):
        desk.store.reply(old, desk.anna, "to +100")


# ---- ownership notice ------------------------------------------------------------------------


def test_reply_notice_names_the_owner_or_the_state(desk: Desk) -> None:
    r = desk.say(desk.telegram, "1", display_name="Ольга Кузнецова")
    task = r.task.id
    number = r.task.number
    assert desk.store.reply_notice(task, desk.anna) is None  # nobody's, open
    desk.store.assign([task], desk.boris, by=desk.maria)
    notice = desk.store.reply_notice(task, desk.anna)
    assert notice is not None and "Борис" in notice and f"#{number}" in notice
    assert "Ольга Кузнецова" in notice
    assert desk.store.reply_notice(task, desk.boris) is None  # his own
    desk.store.set_status([task], WAITING)
    assert desk.store.reply_notice(task, desk.boris) is None
    for status, label in ((DONE, "Done"), (COMPLETED, "Completed"), (CANCELLED, "Cancelled")):
        desk.store.set_status([task], status)
        notice = desk.store.reply_notice(task, desk.boris)
        assert notice is not None and label in notice and f"#{number}" in notice
    both = desk.store.reply_notice(task, desk.anna)
    assert both is not None and "Борис" in both and "Cancelled" in both
