"""Replay protection for the generic channel: a signed timestamp header, refused when
more than five minutes away from the server's clock (over real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from connectors.generic.connector import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_payload,
)
from storage.models import INBOUND
from storage.store import Store
from tests.connectors.gateway_helpers import SECRET, running, spec


def body(mid: str) -> bytes:
    return json.dumps({"id": mid, "chat_id": "c-1", "text": "hi"}).encode()


def stamped(data: bytes, at: float) -> dict[str, str]:
    stamp = str(int(at))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(SECRET, signed_payload(data, stamp)),
            "Content-Type": "application/json"}


def stored(store: Store, channel_id: int) -> int:
    M = store.m.Message
    return M.select().where((M.channel == channel_id) & (M.kind == INBOUND)).count()


async def post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=data,
                                                          headers=headers) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(("age", "status"), [(0, 200), (-120, 200), (299, 200), (301, 403),
                                             (3600, 403), (-400, 403)])
async def test_signed_timestamps_older_than_five_minutes_are_refused(
        sqlite_store: Store, age: int, status: int) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    async with running(sqlite_store, [hook]) as gw:
        data = body("m-1")
        code, text = await post(f"{gw.external_url()}/hooks/crm", data,
                                stamped(data, time.time() - age))
    assert code == status, text
    assert stored(sqlite_store, hook.id) == (1 if status == 200 else 0)
    if status == 403:
        assert "five minutes" in text


async def test_a_timestamp_not_covered_by_the_signature_is_refused(sqlite_store: Store) -> None:
    hook = spec(sqlite_store, "generic", "crm", secret=SECRET)
    data = body("m-1")
    old = stamped(data, time.time() - 3600)
    replayed = {**old, TIMESTAMP_HEADER: str(int(time.time()))}  # a fresh stamp pasted on
    async with running(sqlite_store, [hook]) as gw:
        code, text = await post(f"{gw.external_url()}/hooks/crm", data, replayed)
    assert code == 403 and "signature does not match" in text
    assert stored(sqlite_store, hook.id) == 0


async def test_require_timestamp_refuses_unstamped_requests(sqlite_store: Store) -> None:
    strict = spec(sqlite_store, "generic", "strict", secret=SECRET, require_timestamp=True)
    lax = spec(sqlite_store, "generic", "lax", secret=SECRET)
    data = body("m-1")
    plain = {SIGNATURE_HEADER: sign(SECRET, data), "Content-Type": "application/json"}
    async with running(sqlite_store, [strict, lax]) as gw:
        assert (await post(f"{gw.external_url()}/hooks/strict", data, plain))[0] == 401
        assert (await post(f"{gw.external_url()}/hooks/lax", data, plain))[0] == 200
        assert (await post(f"{gw.external_url()}/hooks/strict", data,
                           stamped(data, time.time())))[0] == 200
    assert stored(sqlite_store, strict.id) == 1 and stored(sqlite_store, lax.id) == 1
