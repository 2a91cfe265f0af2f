"""Quote-reply through the real gateway and outbox to the fake Graph API: WhatsApp sends
the native ``context.message_id``; Messenger and Instagram (no reply field in the Send
API for pages) send the quoted line, counted in their limits."""

from __future__ import annotations

from pathlib import Path

from storage.models import SENT
from storage.store import Store
from tests.connectors.meta_fixtures import live

WA = "4917652163847"
PSID = "24790128317283614"
IGSID = "1254459154682919"


async def test_whatsapp_quote_goes_as_context_message_id(sqlite_store: Store,
                                                         tmp_path: Path) -> None:
    async with live(sqlite_store, "whatsapp", tmp_path) as wa:
        body = wa.fake.wa_message(WA, "text", {"body": "Где мой заказ?"}, wamid="wamid.ASKED")
        assert await wa.fake.deliver(body) == 200
        asked = wa.message("wamid.ASKED")
        assert asked is not None
        reply = wa.reply(WA, "Уже в пути", quote_message_id=asked.id)
        await wa.state_of(reply.id, SENT)
        sent = wa.fake.sent[-1].body
        assert sent["context"] == {"message_id": "wamid.ASKED"}
        assert sent["text"] == {"body": "Уже в пути"}  # native: no quoted line in the text
        plain = wa.reply(WA, "Без цитаты")
        await wa.state_of(plain.id, SENT)
        assert "context" not in wa.fake.sent[-1].body


async def test_messenger_quote_goes_as_the_quoted_line(sqlite_store: Store,
                                                       tmp_path: Path) -> None:
    async with live(sqlite_store, "facebook", tmp_path) as fb:
        asked = fb.fake.page_message(PSID, "Сколько\nстоит доставка?", mid="m_ASKED")
        assert await fb.fake.deliver(asked) == 200
        quoted = fb.message("m_ASKED")
        assert quoted is not None
        reply = fb.reply(PSID, "300 ₽", quote_message_id=quoted.id)
        await fb.state_of(reply.id, SENT)
        body = fb.fake.sent[-1].body
        assert body["message"] == {"text": "> Сколько стоит доставка?\n300 ₽"}
        assert "reply_to" not in body


async def test_instagram_quote_line_counts_in_the_1000_byte_limit(sqlite_store: Store,
                                                                  tmp_path: Path) -> None:
    async with live(sqlite_store, "instagram", tmp_path) as ig:
        question = "Подскажите, пожалуйста, есть ли размер M в синем цвете?"
        assert await ig.fake.deliver(ig.fake.page_message(IGSID, question, mid="aWdQ")) == 200
        quoted = ig.message("aWdQ")
        assert quoted is not None
        short = ig.reply(IGSID, "Да, есть", quote_message_id=quoted.id)
        await ig.state_of(short.id, SENT)
        assert ig.fake.sent[-1].body["message"]["text"] == f"> {question}\nДа, есть"
        # 480 Cyrillic letters = 960 bytes: the whole quote would pass 1,000 bytes, so the
        # line is shortened; the reply's own text is sent whole.
        long_text = "я" * 480
        long = ig.reply(IGSID, long_text, quote_message_id=quoted.id)
        await ig.state_of(long.id, SENT)
        text = ig.fake.sent[-1].body["message"]["text"]
        assert len(text.encode("utf-8")) <= 1000
        line, rest = text.split("\n", 1)
        assert rest == long_text
        assert line.startswith("> Подскажите") and line.endswith("…")
