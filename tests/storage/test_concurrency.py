"""Two processes' worth of writers on one database: the same delivery still stores once,
and one contact still gets one task per channel (the unique keys, not luck, decide)."""

from __future__ import annotations

import threading

from storage.inputs import Inbound
from storage.models import INBOUND
from storage.store import Store


def test_the_same_deliveries_from_two_stores_at_once(store: Store, store_url: str) -> None:
    channel = store.ensure_channel("telegram", "tg").id
    other = Store.open(store_url)
    batch = [Inbound(channel, f"chat-{n % 3}", f"chat-{n % 3}", f"сообщение {n}",
                     external_id=f"upd-{n}") for n in range(30)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(target: Store) -> None:
        try:
            start.wait()
            for inbound in batch:
                target.ingest(inbound)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    try:
        threads = [threading.Thread(target=deliver, args=(s,)) for s in (store, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        M = store.m.Message
        stored = M.select().where((M.channel == channel) & (M.kind == INBOUND)).count()
        assert stored == 30
        assert store.count_tasks() == 3
        assert store.m.Contact.select().count() == 3
    finally:
        other.close()
