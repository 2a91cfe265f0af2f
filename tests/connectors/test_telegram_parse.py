"""The pure parts of the Telegram connector: Update parsing, the secret check, splitting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.telegram.parse import (
    EditedMessage,
    Ignored,
    NewMessage,
    ParseError,
    check_secret,
    parse_update,
    valid_secret_token,
)
from connectors.telegram.send import split_text
from tests.connectors.fake_telegram import FakeTelegram

FAKE = FakeTelegram()


def _msg(**content: object) -> dict:
    return {"update_id": 7, "message": FAKE.message(**content)}  # type: ignore[arg-type]


def test_text_message_fields() -> None:
    update = _msg(text="Здравствуйте, заказ не пришёл")
    msg = update["message"]
    parsed = parse_update(update, channel_id=9)
    assert isinstance(parsed, NewMessage) and parsed.update_id == 7
    inb = parsed.inbound
    assert inb.channel_id == 9
    assert inb.chat_id == "4242" and inb.sender_id == "4242"
    assert inb.external_id == f"4242:{msg['message_id']}"
    assert inb.text == "Здравствуйте, заказ не пришёл"
    assert inb.display_name == "Анна Петрова" and inb.username == "anna_p"
    assert inb.system_data == {"username": "anna_p", "language": "ru"}
    assert inb.sent_at == datetime.fromtimestamp(msg["date"], tz=UTC)
    assert inb.attachments == () and inb.phone == ""


def test_photo_keeps_largest_size_and_caption() -> None:
    sizes = [{"file_id": "small", "width": 90, "height": 60, "file_size": 1000},
             {"file_id": "big", "width": 1280, "height": 960, "file_size": 90000},
             {"file_id": "mid", "width": 320, "height": 240, "file_size": 9000}]
    inb = parse_update(_msg(photo=sizes, caption="вот фото")).inbound  # type: ignore[union-attr]
    assert inb.text == "вот фото"
    assert [(a.location, a.size, a.mime) for a in inb.attachments] == [("big", 90000, "image/jpeg")]


@pytest.mark.parametrize("key,media,name,mime,size", [
    ("document", {"file_id": "D1", "file_name": "счёт.pdf", "mime_type": "application/pdf",
                  "file_size": 21331}, "счёт.pdf", "application/pdf", 21331),
    ("voice", {"file_id": "V1", "duration": 3, "mime_type": "audio/ogg", "file_size": 4321},
     "voice.ogg", "audio/ogg", 4321),
    ("video", {"file_id": "M1", "duration": 52, "width": 853, "height": 480,
               "mime_type": "video/quicktime", "file_size": 10099782},
     "video.mp4", "video/quicktime", 10099782),
])
def test_file_media(key: str, media: dict, name: str, mime: str, size: int) -> None:
    inb = parse_update(_msg(**{key: media})).inbound  # type: ignore[union-attr]
    assert inb.text == ""
    [att] = inb.attachments
    assert (att.name, att.mime, att.size, att.location) == (name, mime, size, media["file_id"])


def test_sticker_is_its_emoji() -> None:
    inb = parse_update(_msg(sticker={"file_id": "S1", "emoji": "🛠", "width": 512, "height": 512,
                                     "is_animated": False, "is_video": False})).inbound  # type: ignore[union-attr]
    assert inb.text == "🛠"
    assert inb.attachments[0].location == "S1" and inb.attachments[0].mime == "image/webp"


def test_location_text_and_system_data() -> None:
    inb = parse_update(_msg(location={"latitude": 55.693416, "longitude": 37.624605})).inbound  # type: ignore[union-attr]
    assert inb.text == "📍 55.693416, 37.624605"
    assert inb.system_data["location"] == "55.693416, 37.624605"


def test_own_contact_phone_goes_onto_the_contact() -> None:
    inb = parse_update(_msg(contact={"phone_number": "+79161234567", "first_name": "Анна",
                                     "user_id": 4242})).inbound  # type: ignore[union-attr]
    assert inb.phone == "+79161234567"
    assert inb.text == "📞 Анна, +79161234567"


def test_someone_elses_contact_stays_text() -> None:
    inb = parse_update(_msg(contact={"phone_number": "+70000000001", "first_name": "Борис",
                                     "user_id": 777})).inbound  # type: ignore[union-attr]
    assert inb.phone == ""
    assert "+70000000001" in inb.text and inb.system_data["shared_contact"] == "+70000000001"


def test_edited_message() -> None:
    msg = FAKE.message("было")
    parsed = parse_update({"update_id": 8, "edited_message": {**msg, "text": "стало",
                                                              "edit_date": msg["date"] + 5}})
    assert isinstance(parsed, EditedMessage)
    assert parsed.external_id == f"4242:{msg['message_id']}" and parsed.text == "стало"


def test_unsupported_updates_are_ignored_with_a_reason() -> None:
    parsed = parse_update({"update_id": 9, "callback_query": {"id": "1", "data": "x"}})
    assert isinstance(parsed, Ignored) and parsed.kinds == ("callback_query",) and parsed.reason
    service = parse_update(_msg(new_chat_members=[{"id": 1, "is_bot": False, "first_name": "X"}]))
    assert isinstance(service, Ignored) and "new_chat_members" in service.kinds


def test_unknown_content_is_kept_not_lost() -> None:
    parsed = parse_update(_msg(poll={"id": "p", "question": "?"}))
    assert isinstance(parsed, NewMessage) and "poll" in parsed.inbound.text


@pytest.mark.parametrize("update,has_id", [
    ([1, 2], False),
    ({"message": {}}, False),
    ({"update_id": "7", "message": {}}, False),
    ({"update_id": 7, "message": "text"}, True),
    ({"update_id": 7, "message": {"message_id": 1, "from": {"id": 1}}}, True),
    ({"update_id": 7, "message": {"message_id": 1, "chat": {"id": 1}}}, True),
])
def test_malformed_updates_raise_parse_error_with_reason(update: object, has_id: bool) -> None:
    with pytest.raises(ParseError) as info:
        parse_update(update)
    assert str(info.value)
    assert (info.value.update_id == 7) is has_id


def test_text_is_made_storable() -> None:
    inb = parse_update(_msg(text="a\x00b\ud800c")).inbound  # type: ignore[union-attr]
    inb.text.encode("utf-8")
    assert "\x00" not in inb.text and inb.text.startswith("a")


def test_check_secret() -> None:
    assert check_secret("s3cr3t-_x", "s3cr3t-_x")
    assert not check_secret("s3cr3t-_x", "s3cr3t-_y")
    assert not check_secret("s3cr3t-_x", None)
    assert not check_secret("", "")
    assert valid_secret_token("a" * 256) and not valid_secret_token("a" * 257)
    assert not valid_secret_token("пароль") and not valid_secret_token("a b")


def test_split_text_prefers_paragraphs_then_lines_then_spaces() -> None:
    para = "Абзац " * 500  # 3,000 characters
    text = f"{para.strip()}\n\n{para.strip()}\n\n{para.strip()}"
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert parts == [para.strip()] * 3
    words = ("слово " * 1500).strip()  # no line breaks: cut at spaces
    parts = split_text(words)
    assert all(len(p) <= 4096 for p in parts) and all(not p.startswith(" ") for p in parts)
    assert " ".join(parts).split() == words.split()


def test_split_text_hard_cut_and_code_points() -> None:
    blob = "x" * 9000
    assert [len(p) for p in split_text(blob)] == [4096, 4096, 808]
    emoji = "😀" * 4096  # 4,096 code points (8,192 UTF-16 units) fit in one message
    assert split_text(emoji) == [emoji]
    assert split_text("   \n\n  ") == []
    assert split_text("коротко") == ["коротко"]


def test_mask_token_hides_the_secret_half() -> None:
    from connectors.telegram.api import mask, mask_token

    token = "123456789:AAHsecretPARTofTHEtoken_xyz"
    text = f"POST https://api.telegram.org/bot{token}/getMe failed; secret=AAHsecretPARTofTHEtoken_xyz"
    masked = mask_token(text, token)
    assert "AAHsecretPARTofTHEtoken_xyz" not in masked and "123456789:***" in masked
    assert mask("not-a-token") == "***"


@pytest.mark.parametrize(("text", "kept"), [
    # A proxy cut its echo of the URL mid-token: the piece left is still masked.
    ("upstream failed for /bot123456789:AAHsecretPAR", "/bot123456789:***"),
    ("…retPARTofTHEtoken_xyz/getMe", "***/getMe"),
    # The bot id is public even when the secret shares digits with it.
    ("token 123456789:AAHsecretPARTofTHE_1234567890 revoked", "token 123456789:***"),
    # Another bot's token (a second channel misconfigured) is masked as well.
    ("see 5555555:ZZZZotherBOTSsecretHALF-abcdef", "5555555:***"),
    ("chat 42 at 12:30:00: Привет", "chat 42 at 12:30:00: Привет"),  # nothing to hide
])
def test_mask_token_hides_pieces_of_the_secret(text: str, kept: str) -> None:
    from connectors.telegram.api import mask_token

    token = "123456789:AAHsecretPARTofTHE_1234567890"
    bot_id, secret = token.split(":")
    masked = mask_token(text, token)
    assert kept in masked
    for piece in (secret[i:i + 8] for i in range(len(secret) - 7)):
        assert piece not in masked or piece in bot_id, piece  # the id alone is public


def test_error_snippet_is_masked_before_it_is_cut() -> None:
    from connectors.telegram.api import snippet

    token = "123456789:AAHsecretPARTofTHE_1234567890"
    body = ("x" * 170 + f"/bot{token}/sendMessage").encode()  # byte 200 cuts the token
    text = snippet(body, token, limit=200)
    assert len(text) <= 200 and "AAHsecr" not in text and "/bot123456789:***/" in text


def test_reply_to_a_message_of_the_same_chat_is_reported() -> None:
    original = FAKE.message(text="Где заказ?")
    update = _msg(text="Вот номер: 15", reply_to_message=original)
    parsed = parse_update(update)
    assert isinstance(parsed, NewMessage)
    assert parsed.reply_to == f"4242:{original['message_id']}"
    assert parsed.inbound.reply_to_external_id == parsed.reply_to  # what the store keeps
    plain = parse_update(_msg(text="без ответа"))
    assert isinstance(plain, NewMessage)
    assert plain.reply_to is None and plain.inbound.reply_to_external_id is None


def test_a_location_with_a_venue_and_a_shared_contact_are_read_with_the_text() -> None:
    parsed = parse_update(_msg(caption="вот", location={"latitude": 55.75, "longitude": 37.61},
                               venue={"title": "Офис"},
                               contact={"phone_number": "+7900", "first_name": "Аня",
                                        "user_id": 1}))
    assert isinstance(parsed, NewMessage)
    assert parsed.inbound.text == "📞 Аня, +7900\n📍 Офис (55.75, 37.61)\nвот"
    assert parsed.inbound.system_data["location"] == "55.75, 37.61"


@pytest.mark.parametrize("reply_to_message, thread", [
    ({"message_id": 3, "chat": {"id": 999, "type": "private"}}, None),  # another chat
    ({"message_id": 5, "chat": {"id": 4242, "type": "private"}}, 5),  # a topic's first message
    ({"message_id": "3"}, None),  # malformed
    ("3", None),
])
def test_replies_that_are_not_the_clients_choice_are_not_reported(
        reply_to_message: object, thread: int | None) -> None:
    content: dict[str, object] = {"text": "x", "reply_to_message": reply_to_message}
    if thread is not None:
        content["message_thread_id"] = thread
    parsed = parse_update(_msg(**content))
    assert isinstance(parsed, NewMessage) and parsed.reply_to is None
