"""The web chat's options, validated once by its plug-in's model: a bad one fails the
channel with a reason naming it (and the others keep running); good ones reach the page,
the origin check and the upload cap."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from connectors.base import FAILED, OK
from connectors.gateway import Gateway
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.webchat_client import Visitor


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def state_of(gw: Gateway, name: str) -> tuple[str, str]:
    return gw.health().get(name, ("", ""))


@pytest.mark.parametrize(("options", "named"), [
    ({"max_upload_bytes": 0}, "max_upload_bytes"),
    ({"allowed_origins": 5}, "allowed_origins"),
    ({"colour": "red"}, "colour"),
])
async def test_an_invalid_option_fails_the_channel_naming_it_and_serves_nothing(
        sqlite_store: Store, http: aiohttp.ClientSession, options: dict[str, object],
        named: str) -> None:
    bad = spec(sqlite_store, "webchat", "bad", **options)
    good = spec(sqlite_store, "webchat", "good")
    async with running(sqlite_store, [bad, good]) as gw:
        state, detail = await eventually(
            lambda: state_of(gw, "bad")[0] == FAILED and state_of(gw, "bad"))
        await eventually(lambda: state_of(gw, "good")[0] == OK)
        base = gw.external_url()
        async with http.get(f"{base}/chat/bad") as page:
            bad_status = page.status
        async with http.get(f"{base}/chat/good") as page:
            good_status = page.status
        visitor = Visitor(http, f"{base}/chat/good/ws")
        await visitor.connect()  # the other channel works
        await visitor.say("hello", "m1")
        await visitor.close()
    assert named in detail and "'bad'" in detail
    assert bad_status == 404 and good_status == 200


async def test_valid_options_reach_the_page_the_origins_and_the_upload_cap(
        sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    # public_url is what the wiring adds from server.public_url: accepted, and its
    # origin may use the chat besides the allowed ones.
    web = spec(sqlite_store, "webchat", "web", title="Ask the shop", max_upload_bytes=1234,
               allowed_origins=["https://shop.example"], public_url="https://chat.example")
    async with running(sqlite_store, [web]) as gw:
        await eventually(lambda: state_of(gw, "web")[0] == OK)
        url = f"{gw.external_url()}/chat/web"
        statuses = {}
        for origin in ("https://shop.example", "https://chat.example", "https://evil.example"):
            async with http.get(url, headers={"Origin": origin}) as page:
                statuses[origin] = page.status
                if page.status == 200:
                    html = await page.text()
    assert statuses == {"https://shop.example": 200, "https://chat.example": 200,
                        "https://evil.example": 403}
    assert "Ask the shop" in html and '"max_upload_bytes": 1234' in html
