"""Options are parsed one way: the plug-in's model, validated once by ``Connector``.

For every webhook/messenger kind, an invalid option makes the channel fail to start
with a reason naming the option (``start()`` and the gateway's health), and valid
options are what the connector reads (``self.options``).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from connectors.base import FAILED, ChannelSpec, Connector, ConnectorError
from connectors.registry import connector_class
from storage.inputs import Inbound
from storage.rows import IngestResult
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec

# kind → (a valid base, the invalid option, its bad value)
BAD: dict[str, tuple[dict[str, Any], str, Any]] = {
    "telegram": ({"token": "1:x"}, "max_body_bytes", 0),
    "whatsapp": ({"access_token": "t", "app_secret": "s", "verify_token": "v",
                  "phone_number_id": "1"}, "max_media_bytes", -1),
    "facebook": ({"page_access_token": "t", "app_secret": "s", "verify_token": "v",
                  "page_id": "1"}, "max_body_bytes", "big"),
    "instagram": ({"page_access_token": "t", "app_secret": "s", "verify_token": "v",
                   "page_id": "1"}, "max_body_bytes", 0),
    "viber": ({"token": "t"}, "sender_name", "Я" * 29),
    "vk": ({"access_token": "t", "secret": "s", "confirmation": "c"}, "poll_wait", 91),
    "generic": ({"secret": "s"}, "require_timestamp", "sometimes"),
}


async def no_ingest(inbound: Inbound) -> IngestResult:
    raise AssertionError("nothing is ingested here")


def build(store: Store, kind: str, options: dict[str, Any]) -> Connector:
    row = store.ensure_channel(kind, f"{kind}-options", {})
    channel = ChannelSpec(id=row.id, name=row.name, kind=kind, options=options)
    connector: Connector = connector_class(kind)(channel, store, no_ingest)
    return connector


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_an_invalid_option_fails_start_naming_it(sqlite_store: Store, kind: str) -> None:
    base, key, value = BAD[kind]
    connector = build(sqlite_store, kind, {**base, key: value})  # constructing never raises
    assert connector.options == type(connector.options)()  # the defaults meanwhile
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectorError) as info:
            await connector.start(session)
    assert f"{key}: " in str(info.value) and kind in str(info.value)


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_an_unknown_option_fails_start_naming_it(sqlite_store: Store, kind: str) -> None:
    connector = build(sqlite_store, kind, {**BAD[kind][0], "colour": "blue"})
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectorError, match="colour: Extra inputs are not permitted"):
            await connector.start(session)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_the_options_are_the_validated_model(sqlite_store: Store, kind: str) -> None:
    base = BAD[kind][0]
    connector = build(sqlite_store, kind, dict(base))
    assert connector.config_error == ""
    for key, value in base.items():
        assert getattr(connector.options, key) == value


async def test_the_gateway_shows_each_bad_channel_failed_with_the_option(
        sqlite_store: Store) -> None:
    specs = [spec(sqlite_store, kind, f"bad-{kind}", **{**base, key: value})
             for kind, (base, key, value) in BAD.items()]
    async with running(sqlite_store, specs) as gw:
        for kind, (_base, key, _value) in BAD.items():
            name = f"bad-{kind}"
            await eventually(lambda name=name: gw.health()[name][0] == FAILED)
            assert f"{key}: " in gw.health()[name][1]
