"""Hypothesis over the generic webhook channel through the real gateway over HTTP.

``POST /hooks/{channel}`` is checked for its HMAC signature before anything is parsed;
the body is then arbitrary bytes (random, JSON of any shape, JSON with lone
surrogates or NUL, near-valid messages with fields of the wrong type). Whatever
arrives: the answer is never a 5xx (a 5xx makes the sender retry forever: a poison
message), nothing is stored without a valid signature, a 2xx means the message is
stored, and no unexpected exception is logged.
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

from connectors.generic.connector import SIGNATURE_HEADER, sign
from tests.reliability.conftest import JSON, mutate
from tests.reliability.harness import RunningGateway

SECRET = "fuzz-secret-Ω"
VALID = {"id": "m-1", "chat_id": "c-9", "sender_id": "u-9", "text": "Привет",
         "name": "Иван", "username": "ivan", "phone": "+7916", "email": "a@b.c",
         "data": {"page": "https://x/?utm_source=y"}}
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    g = RunningGateway(tmp_path_factory.mktemp("generic"), [("generic", "api", {"secret": SECRET})])
    yield g
    g.close()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        return r.status, await r.text()


def post(gw: RunningGateway, body: bytes, signed: bool | str = True) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if signed is True:
        headers[SIGNATURE_HEADER] = sign(SECRET, body)
    elif signed:
        headers[SIGNATURE_HEADER] = signed
    return gw.lt.run(_post(f"{gw.base}/hooks/api", body, headers))


def stored(gw: RunningGateway) -> int:
    return int(gw.store.db.execute_sql("SELECT count(*) FROM message WHERE kind = 'inbound'")
               .fetchone()[0])


def unexpected(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR or r.exc_info]


def encode(value: Any) -> bytes:
    """JSON text the way a sender would write it; lone surrogates as \\u escapes."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


@FUZZ
@given(st.one_of(st.binary(max_size=300), JSON.map(encode)))
def test_signed_garbage_is_refused_cleanly(gw: RunningGateway, body: bytes) -> None:
    gw.records.take()
    status, text = post(gw, body)
    assert status < 500, (status, text)
    if status >= 400:
        assert json.loads(text)["error"].strip()
    assert not unexpected(gw.records.take())


@FUZZ
@given(st.data())
def test_near_valid_messages_never_fail_the_server(gw: RunningGateway, data: st.DataObject) -> None:
    payload = mutate(dict(VALID, id=f"m-{data.draw(st.integers(0, 10**9))}"), data,
                     values=JSON)
    before = stored(gw)
    gw.records.take()
    status, text = post(gw, encode(payload))
    assert status < 500, (status, text, payload)
    after = stored(gw)
    if status == 200:
        answer = json.loads(text)
        assert after == before + (0 if answer["duplicate"] else 1)
    else:
        assert after == before
    assert not unexpected(gw.records.take())


@FUZZ
@given(st.binary(max_size=200),
       st.one_of(st.none(), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                                    max_size=80), st.binary(min_size=32, max_size=32).map(
           lambda b: "sha256=" + b.hex())))
def test_bad_signatures_store_nothing(gw: RunningGateway, body: bytes, signature: str | None) -> None:
    before = stored(gw)
    status, _text = post(gw, body, signed=signature or False)
    if signature and signature == sign(SECRET, body):
        return
    assert status == (401 if not (signature or "").strip() else 403)
    assert stored(gw) == before


def test_valid_message_is_stored(gw: RunningGateway) -> None:
    """The base of the mutations is accepted (or the fuzzing would prove little)."""
    before = stored(gw)
    status, text = post(gw, encode(dict(VALID, id="m-valid")))
    assert status == 200, text
    assert stored(gw) == before + 1
