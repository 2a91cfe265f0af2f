"""VK quote-reply from the store: ``quote_message_id`` becomes ``reply_to`` with the id
the callback stored for the client's message, checked against the fake VK API."""

from __future__ import annotations

from connectors.vk.connector import VkConnector
from storage.rows import ChannelRow
from storage.store import Store
from tests.connectors.fake_vk import FakeVk
from tests.connectors.gateway_helpers import inbound
from tests.connectors.test_vk_callback import CLIENT, conn, fake, session, vk_channel  # noqa: F401


async def test_vk_quote_from_the_store_goes_as_reply_to(
        sqlite_store: Store, vk_channel: ChannelRow,  # noqa: F811
        conn: tuple[VkConnector, str], fake: FakeVk) -> None:  # noqa: F811
    connector, _url = conn
    asked = sqlite_store.ingest(inbound(vk_channel.id, str(CLIENT), "Это он?", "1042"))
    sqlite_store.reply(asked.task.id, sqlite_store.ensure_operator("Оля").id, "Да, это он",
                       quote_message_id=asked.message.id)
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(vk_channel.id,))
    await connector.send(claimed)
    assert fake.sent[-1]["reply_to"] == "1042"
    assert fake.sent[-1]["text"] == "Да, это он"
