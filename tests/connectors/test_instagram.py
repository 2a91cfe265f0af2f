"""Instagram Direct over real HTTP against the fake Graph API: signed inbound with an
attachment, echoes never taken for the client's words, unsent messages acknowledged,
reads by mid, duplicates, bad signatures, sends (success, transient, permanent), the
window error 10/2534022 and the 1,000-UTF-8-byte limit."""

from __future__ import annotations

import time
from pathlib import Path

from storage.models import FAILED, READ, SENT
from storage.rows import OutboxItem
from storage.store import Store
from tests.connectors.fake_meta import FB_TEMPORARY, PAGE_ID, graph_error
from tests.connectors.meta_fixtures import Live, live, thread

IGSID = "1254459154682919"
IG_ACCOUNT = "17841400000000000"


async def _client_wrote(ig: Live, text: str = "Привет") -> None:
    assert await ig.fake.deliver(ig.fake.page_message(IGSID, text)) == 200


async def test_inbound_text_and_video_with_profile_name(sqlite_store: Store,
                                                        tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        ig.fake.profiles[IGSID] = {"name": "Анна", "username": "anna.k"}
        url = ig.fake.add_file("clip.mp4", b"\x00\x00\x00 ftypmp4", "video/mp4")
        body = ig.fake.page_message(IGSID, "Смотрите 👀", mid="aWdfZAG1",
                                    attachments=[{"type": "video", "payload": {"url": url}}])
        assert await ig.fake.deliver(body) == 200
        msg = ig.message("aWdfZAG1")
        assert msg is not None and msg.text == "Смотрите 👀"
        [att] = msg.attachments
        assert Path(att.location).read_bytes() == b"\x00\x00\x00 ftypmp4"
        assert sqlite_store.get_task(msg.task_id).contact_name == "Анна"


async def test_echo_is_not_stored_as_a_client_message(sqlite_store: Store,
                                                      tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        await _client_wrote(ig)
        echo = ig.fake.page_body([ig.fake.page_item(PAGE_ID, IGSID, "message", {
            "mid": "aWdfECHO", "text": "ответ из приложения", "is_echo": True})])
        assert await ig.fake.deliver(echo) == 200
        assert ig.message("aWdfECHO") is None
        assert [m.text for m in thread(sqlite_store, ig.channel_id, IGSID)] == ["Привет"]
        assert sqlite_store.chat_task_id(ig.channel_id, PAGE_ID) is None


async def test_unsent_message_is_acknowledged_without_a_new_message(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        await ig.fake.deliver(ig.fake.page_message(IGSID, "передумала", mid="aWdfDEL"))
        deleted = ig.fake.page_body([ig.fake.page_item(IGSID, PAGE_ID, "message", {
            "mid": "aWdfDEL", "is_deleted": True})])
        assert await ig.fake.deliver(deleted) == 200
        assert [m.text for m in thread(sqlite_store, ig.channel_id, IGSID)] == ["передумала"]
        unsent = ig.message("aWdfDEL")
        assert unsent is not None and unsent.deleted  # marked; the text stays for the team


async def test_duplicates_and_bad_signature(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path,
                    instagram_account_id=IG_ACCOUNT) as ig:
        body = ig.fake.page_message(IGSID, "раз", mid="aWdfONE")
        body["entry"][0]["id"] = IG_ACCOUNT
        assert await ig.fake.deliver(body) == 200
        assert await ig.fake.deliver(body) == 200
        assert await ig.fake.deliver(ig.fake.page_message(IGSID, "x", mid="aWdfX"),
                                     signature="sha256=deadbeef") == 403
        other = ig.fake.page_message(IGSID, "другой аккаунт", mid="aWdfOTHER")  # Page id
        assert await ig.fake.deliver(other) == 200
        assert [m.text for m in thread(sqlite_store, ig.channel_id, IGSID)] == ["раз"]


async def test_send_read_transient_and_window(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        await _client_wrote(ig)
        ig.fake.fail_next(FB_TEMPORARY, status=500)
        reply = ig.reply(IGSID, "Здравствуйте!")
        sent = await ig.state_of(reply.id, SENT)
        assert len(ig.fake.calls_to("me/messages")) == 2
        read = ig.fake.page_body([ig.fake.page_item(IGSID, PAGE_ID, "read", {
            "mid": sent.external_id})])
        assert await ig.fake.deliver(read) == 200
        assert sqlite_store.get_message(reply.id).delivery_state == READ
        ig.fake.last_inbound[IGSID] = time.time() - 2 * 24 * 3600
        late = ig.reply(IGSID, "поздно")
        failed = await ig.state_of(late.id, FAILED)
        assert "2534022" in failed.failure_reason


async def test_permanent_error_shows_metas_reason(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        await _client_wrote(ig)
        ig.fake.fail_next(graph_error(100, "(#100) No matching user found", subcode=2018001))
        reply = ig.reply(IGSID, "кому?")
        failed = await ig.state_of(reply.id, FAILED)
        assert "No matching user found" in failed.failure_reason
        assert "100/2018001" in failed.failure_reason


async def test_1000_utf8_bytes_limit_splits_cyrillic_at_words(sqlite_store: Store,
                                                              tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        await _client_wrote(ig)
        text = "привет мир " * 120  # 1,320 characters, 2,400 UTF-8 bytes
        result = await ig.gateway.connectors[ig.name].send(OutboxItem(
            message_id=10**6, task_id=0, channel_id=ig.channel_id, channel_kind="instagram",
            chat_id=IGSID, text=text, attempts=1, meta={}, attachments=()))
        parts = [s.body["message"]["text"] for s in ig.fake.sent]
        assert len(parts) == 3
        assert all(len(p.encode()) <= 1000 for p in parts) and len(parts[0]) < 560
        assert " ".join(parts).split() == text.split()
        assert len(result.extra_ids) == 2
