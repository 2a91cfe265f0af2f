"""WhatsApp Cloud API inbound over real HTTP: the handshake, signatures checked on the raw
bytes before parsing, messages (Cyrillic, escaped-unicode bodies, media downloaded by id),
duplicates, foreign phone numbers, statuses deduplicated on (id, status)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp

from storage.models import DELIVERED, FAILED, READ, SENT
from storage.store import Store
from tests.connectors.fake_meta import VERIFY_TOKEN
from tests.connectors.meta_fixtures import live, thread, wait_until

WA = "79161234567"


async def test_verification_handshake_answers_only_the_right_token(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa, aiohttp.ClientSession() as http:
        good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444"}
        async with http.get(wa.hook_url, params=good) as resp:
            assert (resp.status, await resp.text()) == (200, "1158201444")
        for bad in ({**good, "hub.verify_token": "guess"}, {**good, "hub.mode": "unsubscribe"},
                    {"hub.challenge": "1"}):
            async with http.get(wa.hook_url, params=bad) as resp:
                assert resp.status == 403
                assert "1158201444" not in await resp.text()


async def test_cyrillic_text_with_escaped_unicode_body_is_stored_after_commit(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        text = "Здравствуйте! Заказ №42 / 1/2 кг, ä"
        body = wa.fake.wa_message(WA, "text", {"body": text}, name="Мария", wamid="wamid.A1")
        assert b"\\u0417" in wa.fake.serialise(body) and b"\\/" in wa.fake.serialise(body)
        assert await wa.fake.deliver(body) == 200
        msg = wa.message("wamid.A1")  # stored before the 200 came back
        assert msg is not None and msg.text == text
        task = sqlite_store.get_task(msg.task_id)
        assert task.contact_name == "Мария"
        card = sqlite_store.contact_card(task.contact_id)
        assert "+" + WA in card.contact.phones


async def test_image_is_downloaded_by_media_id_into_the_attachments_folder(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        data = b"\xff\xd8\xff\xe0 a jpeg" * 100
        wa.fake.add_file("photo-1", data, "image/jpeg", media_id="769823047618750")
        body = wa.fake.wa_message(WA, "image", {"id": "769823047618750", "mime_type": "image/jpeg",
                                                "sha256": "x", "caption": "вот фото"},
                                  wamid="wamid.IMG")
        assert await wa.fake.deliver(body) == 200
        msg = wa.message("wamid.IMG")
        assert msg is not None and msg.text == "вот фото"
        [att] = msg.attachments
        path = Path(att.location)
        assert path.read_bytes() == data and att.size == len(data) and att.mime == "image/jpeg"
        assert path.is_relative_to(tmp_path / "media")
        assert path.name.startswith(hashlib.sha256(data).hexdigest())
        # The media URL needs the bearer token: it was sent to the download, too.
        assert len(wa.fake.calls_to("769823047618750", "GET")) == 1
        assert await wa.fake.deliver(body) == 200  # Meta repeats: no second download
        assert len(wa.fake.calls_to("769823047618750", "GET")) == 1
        assert len(wa.message("wamid.IMG").attachments) == 1  # type: ignore[union-attr]


async def test_a_download_over_the_cap_is_stored_with_its_reason(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path, max_media_bytes=1000) as wa:
        wa.fake.add_file("big", b"x" * 5000, "application/pdf", media_id="55")
        body = wa.fake.wa_message(WA, "document", {"id": "55", "mime_type": "application/pdf",
                                                   "filename": "счёт.pdf", "sha256": "x"},
                                  wamid="wamid.BIG")
        assert await wa.fake.deliver(body) == 200
        [att] = wa.message("wamid.BIG").attachments  # type: ignore[union-attr]
        assert att.location == "" and "счёт.pdf" in att.name and "not downloaded" in att.name
        assert not list((tmp_path / "media").rglob("*.pdf"))


async def test_duplicate_delivery_is_stored_once(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        body = wa.fake.wa_message(WA, "text", {"body": "дважды"}, wamid="wamid.DUP")
        assert await wa.fake.deliver(body) == 200
        assert await wa.fake.deliver(body) == 200
        assert [m.text for m in thread(sqlite_store, wa.channel_id, WA)] == ["дважды"]


async def test_bad_or_missing_signature_stores_nothing(sqlite_store: Store,
                                                       tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        body = wa.fake.wa_message(WA, "text", {"body": "подделка"}, wamid="wamid.BAD")
        assert await wa.fake.deliver(body, secret="not-the-app-secret") == 403
        assert await wa.fake.deliver(body, signature="sha256=" + "0" * 64) == 403
        async with aiohttp.ClientSession() as http:
            async with http.post(wa.hook_url, data=wa.fake.serialise(body)) as resp:
                assert resp.status == 401
        assert wa.message("wamid.BAD") is None
        assert sqlite_store.chat_task_id(wa.channel_id, WA) is None


async def test_events_for_another_phone_number_are_skipped(sqlite_store: Store,
                                                           tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        body = wa.fake.wa_message(WA, "text", {"body": "не сюда"}, wamid="wamid.OTHER")
        body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        assert await wa.fake.deliver(body) == 200
        assert wa.message("wamid.OTHER") is None


async def test_statuses_move_delivery_state_and_repeats_are_skipped(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        await wa.fake.deliver(wa.fake.wa_message(WA, "text", {"body": "привет"}))
        reply = wa.reply(WA, "Добрый день!")
        sent = await wa.state_of(reply.id, SENT)
        assert sent.external_id == wa.fake.sent[-1].message_id
        assert wa.fake.sent[-1].body["text"] == {"body": "Добрый день!"}
        wamid = sent.external_id
        status = wa.fake.wa_status
        await wa.fake.deliver(wa.fake.wa_statuses([status(wamid, "delivered", WA)]))
        assert sqlite_store.get_message(reply.id).delivery_state == DELIVERED
        await wa.fake.deliver(wa.fake.wa_statuses([status(wamid, "read", WA)]))
        # Meta repeats deliveries: a late "delivered" does not move "read" back.
        assert await wa.fake.deliver(wa.fake.wa_statuses([status(wamid, "delivered", WA)])) == 200
        assert sqlite_store.get_message(reply.id).delivery_state == READ


async def test_failed_status_shows_code_and_title(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        await wa.fake.deliver(wa.fake.wa_message(WA, "text", {"body": "привет"}))
        reply = wa.reply(WA, "ответ")
        wamid = (await wa.state_of(reply.id, SENT)).external_id
        error = {"code": 131026, "title": "Message undeliverable"}
        await wa.fake.deliver(wa.fake.wa_statuses([wa.fake.wa_status(wamid, "failed", WA,
                                                                     [error])]))
        failed = await wa.state_of(reply.id, FAILED)
        assert "Message undeliverable (131026)" in failed.failure_reason


async def test_window_closed_arriving_later_as_a_failed_status(store: Store,
                                                               tmp_path: Path) -> None:
    """On both backends: the status can arrive before the outbox recorded the reply's
    id; the connector waits for the store's event instead of losing it."""
    async with live(store, "whatsapp", tmp_path) as wa:
        await wa.fake.deliver(wa.fake.wa_message(WA, "text", {"body": "давно"}))
        wa.fake.last_inbound[WA] = 0  # Meta's clock says the 24 hours are over
        reply = wa.reply(WA, "уже поздно")
        failed = await wa.state_of(reply.id, FAILED)
        assert "131047" in failed.failure_reason and "template" in failed.failure_reason
        # The send itself was accepted: the id is the one the status named.
        assert failed.external_id == wa.fake.sent[-1].message_id
        await wait_until(lambda: wa.fake.deliveries[-1] == 200, what="the status answered")
