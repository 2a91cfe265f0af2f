"""Bad input is rejected *with a logged reason* (issue 8), on every connector.

The fuzz tests prove nothing bad escapes; this one checks the other half of the
requirement: when a webhook or a web chat frame is refused, a log record (WARNING or
INFO) from the connector says why, so an operator debugging "my messages do not
arrive" can find it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from connectors.generic.connector import SIGNATURE_HEADER, sign
from connectors.telegram.connector import SECRET_HEADER, derived_secret, webhook_path
from tests.reliability.harness import RunningGateway

TOKEN = "111222333:rejections-test-token-abcdefgh"
GENERIC_SECRET = "rejections-secret"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    g = RunningGateway(tmp_path_factory.mktemp("rejections"), [
        ("telegram", "tg", {"token": TOKEN, "mode": "webhook", "api_base": "http://127.0.0.1:9",
                            "backoff_initial": 30}),
        ("generic", "api", {"secret": GENERIC_SECRET}),
        ("webchat", "web", {}),
    ])
    yield g
    g.close()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        await r.read()
        return r.status


async def _ws(url: str, frames: list[str]) -> list[dict[str, Any]]:
    got = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        for frame in frames:
            await ws.send_str(frame)
        await ws.send_str(json.dumps({"type": "message", "id": "end", "text": "end"}))
        while True:
            msg = await ws.receive(timeout=10)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return got
            data = json.loads(msg.data)
            got.append(data)
            if data.get("id") == "end":
                return got


def tg(gw: RunningGateway, body: bytes, secret: str | None = "derived") -> int:
    headers = {"Content-Type": "application/json"}
    if secret == "derived":
        headers[SECRET_HEADER] = derived_secret(TOKEN, "tg")
    elif secret is not None:
        headers[SECRET_HEADER] = secret
    return gw.lt.run(_post(gw.base + webhook_path("tg"), body, headers))


def generic(gw: RunningGateway, body: bytes, signature: str | None = "valid") -> int:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers[SIGNATURE_HEADER] = sign(GENERIC_SECRET, body)
    elif signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return gw.lt.run(_post(f"{gw.base}/hooks/api", body, headers))


CASES = {
    "telegram: update without message_id": lambda gw: tg(
        gw, b'{"update_id": 5, "message": {"chat": {"id": 1}, "from": {"id": 1}}}'),
    "telegram: not JSON": lambda gw: tg(gw, b"{not json"),
    "telegram: wrong secret": lambda gw: tg(gw, b'{"update_id": 6}', secret="wrong"),
    "generic: not JSON": lambda gw: generic(gw, b"{not json"),
    "generic: missing chat_id": lambda gw: generic(gw, b'{"id": "x", "text": "hi"}'),
    "generic: bad signature": lambda gw: generic(gw, b'{"id": "x"}', signature="sha256=00"),
    "webchat: frame not JSON": lambda gw: gw.lt.run(_ws(
        f"{gw.base}/chat/web/ws", ['{"type": "hello"}', "{not json"])),
    "webchat: message without id": lambda gw: gw.lt.run(_ws(
        f"{gw.base}/chat/web/ws", ['{"type": "hello"}', '{"type": "message", "text": "x"}'])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rejection_is_logged_with_a_reason(gw: RunningGateway, case: str) -> None:
    gw.records.take()
    result = CASES[case](gw)
    if isinstance(result, int):
        assert 400 <= result < 500, result  # refused, and not as a server error
    records = [r for r in gw.records.take()
               if r.name.startswith(("connectors", "switchboard")) and r.levelno >= logging.INFO
               and not r.name.startswith("connectors.gateway")]
    assert records, "refused without a log record"
    assert all(r.getMessage().strip() for r in records)
