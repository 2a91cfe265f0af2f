"""Hypothesis over the web chat's websocket/JSON input through the real gateway.

A page may send anything: frames that are not JSON, JSON that is not an object,
objects of unknown types, fields of the wrong type, receipts for ids that are not
the visitor's, binary frames. Whatever comes first, the connection keeps working —
a well-formed message sent after the garbage is stored and acknowledged — and no
unexpected exception is logged. A frame over the size cap closes the socket with
1009 (message too big) instead of being read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.http_server import ServerLimits
from tests.reliability.conftest import JSON, NASTY_LIST, mutate
from tests.reliability.harness import RunningGateway

TOKEN = "fuzz-visitor-token-0123456789"
FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FRAME_SHAPES = [
    {"type": "hello", "token": TOKEN, "name": "Иван", "page": "https://x/?utm_source=a",
     "referrer": "https://r/", "language": "ru"},
    {"type": "message", "id": "m1", "text": "Здравствуйте"},
    {"type": "name", "name": "Пётр"},
    {"type": "receipt", "ids": [1, 2, 3], "state": "read"},
]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    # Garbage from many fresh visitors on one address: the rate limits (tested on their
    # own in tests/connectors/test_webchat_hostile.py) are raised out of the way here.
    roomy = ServerLimits(new_chats_per_minute=100_000, visitor_burst=100_000,
                         visitor_messages_per_second=100_000.0)
    g = RunningGateway(tmp_path_factory.mktemp("webchat"), [("webchat", "web", {})],
                       limits=roomy)
    yield g
    g.close()


class _Drawer:
    """Lets ``mutate`` (written for ``st.data()``) draw inside a composite strategy."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw


@st.composite
def shaped(draw: Any) -> str:
    base = draw(st.sampled_from(FRAME_SHAPES))
    return json.dumps(mutate(base, _Drawer(draw), values=JSON))  # type: ignore[arg-type]


# A text frame is UTF-8 on the wire, so a lone surrogate cannot travel in one raw (the
# client could not even encode it); it arrives JSON-escaped, as the JSON frames draw it.
RAW_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(NASTY_LIST))


def frames() -> Any:
    return st.one_of(
        shaped(),
        JSON.map(json.dumps),
        RAW_TEXT,
        st.binary(max_size=100),
    )


async def session(url: str, garbage: list[str | bytes], probe: str) -> tuple[bool, list[dict]]:
    """Send the garbage, then a valid message; True when its ack came back."""
    got: list[dict] = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"type": "hello", "token": TOKEN}))
        for frame in garbage:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
        await ws.send_str(json.dumps({"type": "hello", "token": TOKEN}))
        await ws.send_str(json.dumps({"type": "message", "id": probe, "text": "проверка"}))
        while True:
            msg = await ws.receive(timeout=10)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return False, got
            data = json.loads(msg.data)
            got.append(data)
            if data.get("type") == "ack" and data.get("id") == probe:
                return True, got


def unexpected(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR or r.exc_info]


@FUZZ
@given(st.lists(frames(), max_size=6),
       st.integers(0, 10**9))
def test_garbage_never_breaks_the_connection(gw: RunningGateway, garbage: list[Any],
                                             n: int) -> None:
    gw.records.take()
    probe = f"probe{n}"
    acked, got = gw.lt.run(session(f"{gw.base}/chat/web/ws", garbage, probe))
    assert acked, got[-5:]
    for frame in got:
        if frame.get("type") == "error":
            assert str(frame.get("text", "")).strip()
    assert not unexpected(gw.records.take())


def test_oversized_frame_closes_with_1009(gw: RunningGateway) -> None:
    async def go() -> tuple[Any, Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(f"{gw.base}/chat/web/ws") as ws:
            await ws.send_str(json.dumps({"type": "message", "id": "big", "text": "я" * 70_000}))
            msg = await ws.receive(timeout=10)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await ws.receive(timeout=10)
            return msg.type, ws.close_code

    kind, code = gw.lt.run(go())
    assert kind in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert code == 1009
