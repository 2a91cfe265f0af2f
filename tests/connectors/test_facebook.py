"""Facebook Messenger over real HTTP against the fake Graph API: the handshake, signed
inbound with an attachment, duplicates, bad signatures, sends (success, transient,
permanent, the 24-hour window and the human-agent tag, the 2,000-character limit),
delivery and read watermarks, edits, other pages' events."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from storage.inputs import AttachmentIn
from storage.models import DELIVERED, FAILED, READ, SENT
from storage.rows import OutboxItem
from storage.store import Store
from tests.connectors.fake_meta import FB_TEMPORARY, FB_UNAVAILABLE, PAGE_ID, VERIFY_TOKEN
from tests.connectors.meta_fixtures import Live, live, thread

PSID = "24790128317283614"


async def _client_wrote(fb: Live, text: str = "Здравствуйте") -> None:
    fb.fake.profiles[PSID] = {"first_name": "Ольга", "last_name": "Петрова"}
    assert await fb.fake.deliver(fb.fake.page_message(PSID, text)) == 200


async def test_handshake_and_inbound_text_with_an_image(sqlite_store: Store,
                                                        tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb, aiohttp.ClientSession() as http:
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
        async with http.get(fb.hook_url, params=query) as resp:
            assert (resp.status, await resp.text()) == (200, "42")
        async with http.get(fb.hook_url, params={**query, "hub.verify_token": "x"}) as resp:
            assert resp.status == 403
        fb.fake.profiles[PSID] = {"first_name": "Ольга", "last_name": "Петрова"}
        url = fb.fake.add_file("scontent-photo.jpg", b"jpeg bytes", "image/jpeg")
        body = fb.fake.page_message(PSID, "Вот чек / ä", mid="m_IMG",
                                    attachments=[{"type": "image", "payload": {"url": url}}])
        assert await fb.fake.deliver(body) == 200
        msg = fb.message("m_IMG")
        assert msg is not None and msg.text == "Вот чек / ä"
        [att] = msg.attachments
        assert Path(att.location).read_bytes() == b"jpeg bytes" and att.mime == "image/jpeg"
        assert sqlite_store.get_task(msg.task_id).contact_name == "Ольга Петрова"


async def test_duplicate_bad_signature_and_other_pages(sqlite_store: Store,
                                                       tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        body = fb.fake.page_message(PSID, "один раз", mid="m_DUP")
        assert await fb.fake.deliver(body) == 200
        assert await fb.fake.deliver(body) == 200
        forged = fb.fake.page_message(PSID, "чужое", mid="m_FORGED")
        assert await fb.fake.deliver(forged, secret="wrong") == 403
        other_page = fb.fake.page_message(PSID, "другой странице", mid="m_OTHER")
        other_page["entry"][0]["id"] = "999"
        assert await fb.fake.deliver(other_page) == 200
        assert [m.text for m in thread(sqlite_store, fb.channel_id, PSID)] == ["один раз"]
        assert fb.message("m_FORGED") is None and fb.message("m_OTHER") is None


async def test_send_success_transient_retry_and_permanent_reason(sqlite_store: Store,
                                                                 tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        fb.fake.fail_next(FB_TEMPORARY, status=500)
        reply = fb.reply(PSID, "Добрый день!")
        sent = await fb.state_of(reply.id, SENT)
        assert len(fb.fake.calls_to("me/messages")) == 2
        body = fb.fake.sent[-1].body
        assert body == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                        "message": {"text": "Добрый день!"}}
        assert sent.external_id == fb.fake.sent[-1].message_id
        fb.fake.fail_next(FB_UNAVAILABLE)
        second = fb.reply(PSID, "ещё")
        failed = await fb.state_of(second.id, FAILED)
        assert "This person isn't available right now" in failed.failure_reason


async def test_window_error_and_human_agent_tag(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        fb.fake.last_inbound[PSID] = time.time() - 3 * 24 * 3600  # Meta: 3 days ago
        late = fb.reply(PSID, "слишком поздно")
        failed = await fb.state_of(late.id, FAILED)
        assert "2018278" in failed.failure_reason and "24 hours" in failed.failure_reason
        tagged = fb.reply(PSID, "ответ оператора", meta={"tag": "HUMAN_AGENT"})
        await fb.state_of(tagged.id, SENT)
        body = fb.fake.sent[-1].body
        assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "HUMAN_AGENT"


async def test_over_2000_characters_is_split_at_words_never_refused(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        connector = fb.gateway.connectors[fb.name]
        text = "длинное слово " * 330  # 4,620 characters
        result = await connector.send(OutboxItem(
            message_id=10**6, task_id=0, channel_id=fb.channel_id, channel_kind="facebook",
            chat_id=PSID, text=text, attempts=1, meta={}, attachments=()))
        parts = [s.body["message"]["text"] for s in fb.fake.sent]
        assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
        assert " ".join(parts).split() == text.split()
        assert (result.external_id, *result.extra_ids) == tuple(s.message_id for s in fb.fake.sent)


async def test_deliveries_and_read_watermarks_move_states(sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        first, second = fb.reply(PSID, "первое"), fb.reply(PSID, "второе")
        one = await fb.state_of(first.id, SENT)
        two = await fb.state_of(second.id, SENT)
        item = fb.fake.page_item
        delivery = fb.fake.page_body([item(PSID, PAGE_ID, "delivery", {
            "mids": [one.external_id], "watermark": int(time.time() * 1000)})])
        assert await fb.fake.deliver(delivery) == 200
        assert sqlite_store.get_message(first.id).delivery_state == DELIVERED
        assert sqlite_store.get_message(second.id).delivery_state == SENT
        no_mids = fb.fake.page_body([item(PSID, PAGE_ID, "delivery", {
            "watermark": int(time.time() * 1000) + 1000})])
        assert await fb.fake.deliver(no_mids) == 200
        assert sqlite_store.get_message(second.id).delivery_state == DELIVERED
        read = fb.fake.page_body([item(PSID, PAGE_ID, "read", {
            "watermark": int(time.time() * 1000) + 1000})])
        assert await fb.fake.deliver(read) == 200
        assert {sqlite_store.get_message(m.id).delivery_state for m in (one, two)} == {READ}


async def test_old_watermark_does_not_mark_later_replies(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        reply = fb.reply(PSID, "после отметки")
        await fb.state_of(reply.id, SENT)
        read = fb.fake.page_body([fb.fake.page_item(PSID, PAGE_ID, "read", {
            "watermark": int((time.time() - 3600) * 1000)})])
        assert await fb.fake.deliver(read) == 200
        assert sqlite_store.get_message(reply.id).delivery_state == SENT


async def test_edit_replaces_the_text(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        assert await fb.fake.deliver(fb.fake.page_message(PSID, "опечатка", mid="m_E")) == 200
        edit = fb.fake.page_body([fb.fake.page_item(PSID, PAGE_ID, "message_edit", {
            "mid": "m_E", "text": "исправлено", "num_edit": 1})])
        assert await fb.fake.deliver(edit) == 200
        msg = fb.message("m_E")
        assert msg is not None and msg.text == "исправлено" and msg.edited


async def test_a_local_file_is_uploaded_with_the_message(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        await _client_wrote(fb)
        scan = tmp_path / "договор.pdf"
        scan.write_bytes(b"%PDF-1.7 contract")
        reply = fb.reply(PSID, "Договор во вложении", attachments=(
            AttachmentIn("договор.pdf", "application/pdf", scan.stat().st_size, str(scan)),))
        await fb.state_of(reply.id, SENT)
        text, upload = (s.body for s in fb.fake.sent[-2:])
        assert text["message"] == {"text": "Договор во вложении"}
        assert upload["recipient"] == {"id": PSID}
        assert upload["message"]["attachment"]["type"] == "file"
        assert upload["filedata"] == b"%PDF-1.7 contract" and upload["_filename"] == "договор.pdf"
