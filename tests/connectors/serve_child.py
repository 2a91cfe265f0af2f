"""A serving process for the crash tests: a gateway with one web chat channel ``web`` on
the SQLite file ``argv[1]``, listening on 127.0.0.1 port ``argv[2]`` (0: any). Prints
the port, then serves until it is killed."""

from __future__ import annotations

import asyncio
import sys

from connectors.backoff import Backoff
from connectors.base import ChannelSpec
from connectors.gateway import Gateway
from connectors.registry import policies
from storage.store import Store


async def main(path: str, port: int) -> None:
    store = Store.open(path, policies=policies())
    row = store.ensure_channel("webchat", "web", {})
    gateway = Gateway(store, [ChannelSpec(row.id, "web", "webchat", {}, {})], port=port,
                      outbox_backoff=Backoff(base=0.05, cap=0.2))
    await gateway.start()
    print(gateway.server.bound_port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
