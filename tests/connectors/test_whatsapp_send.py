"""WhatsApp outbound through the real outbox: success, 130429 retried although it comes
with HTTP 400, a permanent error shown with Meta's reason, 131047 answered synchronously,
templates, files uploaded then sent by media id."""

from __future__ import annotations

from pathlib import Path

from connectors.whatsapp.parse import WaMessage, WaStatus, parse_body
from storage.inputs import AttachmentIn
from storage.models import FAILED, SENT
from storage.store import Store
from tests.connectors.fake_meta import (
    PHONE_NUMBER_ID,
    WA_THROUGHPUT,
    WA_UNDELIVERABLE,
    FakeMeta,
)
from tests.connectors.meta_fixtures import live

WA = "4917652163847"


async def _client_wrote(wa: object) -> None:
    fake = wa.fake  # type: ignore[attr-defined]
    assert await fake.deliver(fake.wa_message(WA, "text", {"body": "Hallo"})) == 200


async def test_throughput_error_with_http_400_is_retried(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        await _client_wrote(wa)
        wa.fake.fail_next(WA_THROUGHPUT, status=400)
        reply = wa.reply(WA, "Ответ после паузы")
        sent = await wa.state_of(reply.id, SENT)
        assert len(wa.fake.calls_to(f"{PHONE_NUMBER_ID}/messages")) == 2
        assert sent.external_id == wa.fake.sent[-1].message_id
        assert wa.fake.sent[-1].body["to"] == WA


async def test_permanent_error_is_shown_with_metas_reason(sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        await _client_wrote(wa)
        wa.fake.fail_next(WA_UNDELIVERABLE, status=400)
        reply = wa.reply(WA, "не дойдёт")
        failed = await wa.state_of(reply.id, FAILED)
        assert "(#131026) Message Undeliverable" in failed.failure_reason
        assert "recipient's phone number" in failed.failure_reason
        assert len(wa.fake.calls_to(f"{PHONE_NUMBER_ID}/messages")) == 1  # not retried


async def test_window_closed_answered_synchronously(sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path, window_sync=True) as wa:
        await _client_wrote(wa)
        wa.fake.last_inbound[WA] = 0
        reply = wa.reply(WA, "поздно")
        failed = await wa.state_of(reply.id, FAILED)
        assert "131047" in failed.failure_reason and "template" in failed.failure_reason
        assert not wa.fake.sent


async def test_template_is_sent_as_type_template_even_with_the_window_closed(
        sqlite_store: Store, tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path, template_language="ru") as wa:
        await _client_wrote(wa)
        wa.fake.last_inbound[WA] = 0
        reply = wa.reply(WA, "Здравствуйте! Ваш заказ готов.",
                         meta={"template": "order_ready"})
        await wa.state_of(reply.id, SENT)
        body = wa.fake.sent[-1].body
        assert body["type"] == "template"
        assert body["template"] == {"name": "order_ready", "language": {"code": "ru"}}


async def test_a_file_is_uploaded_then_sent_by_media_id(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        await _client_wrote(wa)
        photo = tmp_path / "фото.png"
        photo.write_bytes(b"\x89PNG fake")
        reply = wa.reply(WA, "слово " * 10, attachments=(
            AttachmentIn("фото.png", "image/png", photo.stat().st_size, str(photo)),))
        await wa.state_of(reply.id, SENT)
        [upload] = wa.fake.calls_to(f"{PHONE_NUMBER_ID}/media")
        assert upload.body["file"] == b"\x89PNG fake" and upload.body["_filename"] == "фото.png"
        text, image = (s.body for s in wa.fake.sent[-2:])
        assert text["type"] == "text" and text["text"]["body"].startswith("слово")
        assert image["type"] == "image" and image["image"]["id"] in wa.fake.media


def test_parse_covers_every_documented_kind() -> None:
    fake = FakeMeta("whatsapp")
    kinds = {
        "location": {"latitude": 55.75, "longitude": 37.62, "name": "Офис"},
        "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Да"}},
        "reaction": {"message_id": "wamid.X", "emoji": "👍"},
        "button": {"text": "Подтвердить", "payload": "ok"},
        "order": {"catalog_id": "1"},
    }
    texts = {}
    for kind, payload in kinds.items():
        events, foreign = parse_body(fake.wa_message(WA, kind, payload), PHONE_NUMBER_ID)
        assert foreign == 0
        [event] = events
        assert isinstance(event, WaMessage)
        texts[kind] = event.text
    contacts = fake.wa_message(WA, "contacts", {})
    contacts["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"] = [
        {"name": {"formatted_name": "Иван"}, "phones": [{"phone": "+7 900"}]}]
    [card] = parse_body(contacts, PHONE_NUMBER_ID)[0]
    assert isinstance(card, WaMessage) and "Иван" in card.text and "+7 900" in card.text
    assert "Офис" in texts["location"] and "55.75" in texts["location"]
    assert texts["interactive"] == "Да" and texts["button"] == "Подтвердить"
    assert "👍" in texts["reaction"]
    assert "order" in texts["order"]  # anything else: a visible placeholder
    failed = fake.wa_statuses([fake.wa_status("wamid.S", "failed", WA, [
        {"code": 131047, "title": "Re-engagement message"}])])
    [status] = parse_body(failed, PHONE_NUMBER_ID)[0]
    assert isinstance(status, WaStatus) and status.code == 131047
