"""Quote-reply from the store to the generic channel's receiver (``quote: {id, text}`` in
the signed JSON), and to Viber (no reply field:
the quoted line), each against its fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors.generic.connector import idempotency_key
from connectors.viber.connector import ViberConnector
from storage.models import SENT
from storage.rows import ChannelRow
from storage.store import Store
from tests.connectors.fake_channel import FakeChannelServer
from tests.connectors.gateway_helpers import SECRET, eventually, inbound, running, spec
from tests.connectors.test_viber import USER, conn, fake, viber_channel  # noqa: F401


@pytest.fixture
async def receiver() -> AsyncIterator[FakeChannelServer]:
    server = FakeChannelServer(secret=SECRET)
    await server.start()
    yield server
    await server.stop()


async def test_generic_quote_is_in_the_signed_json(store: Store,
                                                   receiver: FakeChannelServer) -> None:
    crm = spec(store, "generic", "crm", secret=SECRET, send_url=receiver.url)
    asked = store.ingest(inbound(crm.id, "c-1", "Где\nзаказ 77?", "m-77"))
    operator = store.ensure_operator("Anna", "operator").id
    async with running(store, [crm]):
        reply = store.reply(asked.task.id, operator, "Уже в пути",
                            quote_message_id=asked.message.id)
        plain = store.reply(asked.task.id, operator, "И ещё")
        await receiver.wait_for(2)
        await eventually(lambda: store.get_message(plain.id).delivery_state == SENT)
    quoted = receiver.accepted[idempotency_key(reply.id)]  # the signature was checked
    assert quoted["quote"] == {"id": "m-77", "text": "Где заказ 77?"}
    assert quoted["text"] == "Уже в пути"
    assert "quote" not in receiver.accepted[idempotency_key(plain.id)]


async def test_viber_quote_goes_as_the_quoted_line(
        sqlite_store: Store, viber_channel: ChannelRow,  # noqa: F811
        conn: ViberConnector, fake) -> None:  # noqa: F811
    asked = sqlite_store.ingest(inbound(viber_channel.id, USER, "Есть ли доставка в Минск?",
                                        "5123456789"))
    operator = sqlite_store.ensure_operator("Оля").id
    sqlite_store.reply(asked.task.id, operator, "Да, 2 дня",
                       quote_message_id=asked.message.id)
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(viber_channel.id,))
    await conn.send(claimed)
    sent = fake.sent[-1]
    assert sent["receiver"] == USER
    assert sent["type"] == "text" and sent["text"] == "> Есть ли доставка в Минск?\nДа, 2 дня"

