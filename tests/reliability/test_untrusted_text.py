"""Untrusted text through the whole path: webhook → store → console render.

Client text arrives over the real gateway (the generic signed webhook and the web
chat websocket, real HTTP on loopback) and must be either stored *losslessly* —
byte for byte what the client sent, markup and escapes included (only NUL and lone
surrogates, which no backend can hold, become U+FFFD) — or rejected
cleanly with a 4xx and a reason (invalid UTF-8, a body over the cap). Then the
console's widgets (``widgets/thread_view.py``, ``widgets/task_list.py``) render it
in a Pilot harness: markup is shown literally (never parsed into styles or links),
escape sequences and bidi / zero-width characters are made visible, and nothing a
client wrote reaches the terminal as a control character.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from textual.app import App, ComposeResult

from connectors.generic.connector import SIGNATURE_HEADER, sign
from storage.rows import TaskRow
from storage.store import Store
from tests.reliability.harness import RunningGateway
from tests.workers import workers_done
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

SECRET = "untrusted-secret"
TG_TOKEN = "555666777:untrusted-text-token-abcdef"
CAP = 1_048_576
NASTY = {
    "markup": "[bold red]alarm[/] [link=https://evil.example]click[/link] [@click=app.quit]x[/]",
    "ansi": "\x1b[31mred\x1b[0m \x1b[2J\x1b[H cleared? \x1b[5mblink",
    "osc": "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07 \x1b]0;title\x07",
    "c1": "8-bit csi \x9b31m and \x9d osc",
    "bidi": "invoice_\u202egpj.exe and \u2066isolate\u2069",
    "zero": "pay\u200bpal\u200d \ufeffbom \u00adsoft",
    "controls": "bell\x07 back\x08space nul\x00 del\x7f cr\rreturn",
    "cyrillic": "Здравствуйте, ёлка Ёж — «кавычки»",
}
# What must never reach a rendered strip from client text.
FORBIDDEN = set("\x1b\x07\x08\x00\x7f\r\x9b\x9d\u202e\u2066\u2069\u200b\u200d\ufeff\u00ad")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    g = RunningGateway(tmp_path_factory.mktemp("untrusted"),
                       [("generic", "api", {"secret": SECRET}), ("webchat", "web", {}),
                        ("telegram", "tg", {"token": TG_TOKEN, "mode": "webhook",
                                            "api_base": "http://127.0.0.1:9"})],
                       max_body_bytes=CAP)
    yield g
    g.close()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        return r.status, await r.text()


def post_raw(gw: RunningGateway, body: bytes) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}
    return gw.lt.run(_post(f"{gw.base}/hooks/api", body, headers))


def post(gw: RunningGateway, mid: str, text: str, name: str = "Клиент", chat: str = "c1") -> tuple[int, str]:
    body = json.dumps({"id": mid, "chat_id": chat, "text": text, "name": name}).encode()
    return post_raw(gw, body)


def stored_text(gw: RunningGateway, external_id: str) -> str | None:
    row = gw.store.find_message(gw.channel_id("api"), external_id)
    return None if row is None else row.text


def as_stored(text: str) -> str:
    """What the store keeps: everything as sent except NUL, which every backend stores
    as U+FFFD (PostgreSQL refuses NUL; storage/text.py ``storable``)."""
    return text.replace("\x00", "\ufffd")


# ---- wire → store --------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(NASTY))
def test_webhook_stores_nasty_text_losslessly(gw: RunningGateway, kind: str) -> None:
    status, text = post(gw, f"nasty-{kind}", NASTY[kind], name=NASTY[kind][:60])
    assert status == 200, text
    assert stored_text(gw, f"nasty-{kind}") == as_stored(NASTY[kind])


def test_message_just_under_the_body_cap_is_stored_whole(gw: RunningGateway) -> None:
    text = ("Привет \x1b[31m" * 60_000)[: 480_000]  # ~1 MB of UTF-8 in the JSON body
    body = json.dumps({"id": "huge", "chat_id": "huge", "text": text}, ensure_ascii=False).encode()
    assert 900_000 < len(body) < CAP
    status, answer = post_raw(gw, body)
    assert status == 200, answer[:300]
    assert stored_text(gw, "huge") == text


def test_body_over_the_cap_is_refused_with_413(gw: RunningGateway) -> None:
    body = json.dumps({"id": "too-big", "chat_id": "c", "text": "x" * CAP}).encode()
    status, answer = post_raw(gw, body)
    assert status == 413
    assert str(CAP) in answer
    assert stored_text(gw, "too-big") is None


@pytest.mark.parametrize("raw", [
    b"\xff\xfe", b"\xc3\x28", b"\xf8\x88\x80\x80\x80",
    # An encoded surrogate: json.loads(bytes) would decode it with surrogatepass; the
    # connector decodes the body as strict UTF-8 first.
    b"\xed\xa0\x80",
])
def test_invalid_utf8_body_is_refused_cleanly(gw: RunningGateway, raw: bytes) -> None:
    body = b'{"id": "bad-utf8", "chat_id": "c", "text": "' + raw + b'"}'
    status, answer = post_raw(gw, body)
    assert status == 400, answer
    assert json.loads(answer)["error"].strip()
    assert stored_text(gw, "bad-utf8") is None


@pytest.mark.parametrize("kind", sorted(NASTY))
def test_telegram_webhook_stores_nasty_text(gw: RunningGateway, kind: str) -> None:
    """Lossless except NUL, which the Telegram parser turns into U+FFFD on purpose
    (PostgreSQL refuses NUL; telegram_parse._str)."""
    from connectors.telegram.connector import SECRET_HEADER, derived_secret, webhook_path

    n = 1000 + sorted(NASTY).index(kind)
    update = {"update_id": n, "message": {
        "message_id": n, "date": 1_700_000_000, "chat": {"id": 77, "type": "private"},
        "from": {"id": 77, "is_bot": False, "first_name": NASTY[kind][:40]},
        "text": NASTY[kind]}}
    headers = {"Content-Type": "application/json",
               SECRET_HEADER: derived_secret(TG_TOKEN, "tg")}
    status, answer = gw.lt.run(_post(gw.base + webhook_path("tg"),
                                     json.dumps(update).encode(), headers))
    assert status == 200, answer
    row = gw.store.find_message(gw.channel_id("tg"), f"77:{n}")
    assert row is not None and row.text == NASTY[kind].replace("\x00", "\ufffd")


async def _ws_send(url: str, text: str, mid: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"type": "hello", "token": "untrusted-visitor-000000001"}))
        await ws.send_str(json.dumps({"type": "message", "id": mid, "text": text}))
        while True:
            data = json.loads((await ws.receive(timeout=10)).data)
            if data.get("type") in ("ack", "error") and data.get("id") == mid:
                return data


@pytest.mark.parametrize("kind", sorted(NASTY))
def test_webchat_stores_nasty_text_losslessly(gw: RunningGateway, kind: str) -> None:
    answer = gw.lt.run(_ws_send(f"{gw.base}/chat/web/ws", NASTY[kind], f"w{kind}"))
    assert answer["type"] == "ack", answer
    assert gw.store.get_message(answer["message_id"]).text == as_stored(NASTY[kind])


def test_generic_lone_surrogate_is_stored_or_refused_with_4xx(gw: RunningGateway) -> None:
    status, answer = post_raw(gw, b'{"id": "sur", "chat_id": "c", "text": "a\\ud800b"}')
    assert status < 500, answer
    assert status == 200, answer  # storable: stored, with U+FFFD in its place
    assert stored_text(gw, "sur") == "a\ufffdb"


def test_webchat_lone_surrogate_is_stored_or_refused(gw: RunningGateway) -> None:
    async def go() -> dict[str, Any]:
        async with aiohttp.ClientSession() as s, s.ws_connect(f"{gw.base}/chat/web/ws") as ws:
            await ws.send_str(json.dumps({"type": "hello", "token": "untrusted-visitor-000000002"}))
            await ws.send_str('{"type": "message", "id": "sur", "text": "a\\ud800b"}')
            while True:
                data = json.loads((await ws.receive(timeout=10)).data)
                if data.get("id") == "sur":
                    return data

    answer = gw.lt.run(go())
    retry_forever = answer["type"] == "error" and "sent again" in answer.get("text", "")
    assert not retry_forever, answer
    assert answer["type"] == "ack", answer  # storable: stored, with U+FFFD in its place
    assert gw.store.get_message(answer["message_id"]).text == "a\ufffdb"


# ---- store → render ------------------------------------------------------------------
class Harness(App[None]):
    """The console's two widgets over a real store, as the screens mount them."""

    def __init__(self, store: Store, task: TaskRow) -> None:
        super().__init__()
        self.store, self.open_task = store, task

    def compose(self) -> ComposeResult:
        yield TaskList(self.store, id="tasks")
        yield ThreadView(self.store, id="thread")

    def on_mount(self) -> None:
        self.query_one(TaskList).styles.height = 12
        self.query_one(ThreadView).show_task(self.open_task)


async def settle(pilot: Any, view: Any, seconds: float = 20.0) -> None:
    """Wait until ``view`` loaded its rows (polls after each idle pause, no timed sleep)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await workers_done(pilot.app)
        await pilot.pause()
        if not view.loading and (getattr(view, "messages", None) or getattr(view, "rows", None)):
            return
    raise AssertionError(f"{type(view).__name__} did not load in {seconds} s")


async def drawn(pilot: Any, *views: Any, seconds: float = 20.0) -> None:
    """Wait until ``views`` draw the same lines twice in a row (and not only blanks)."""
    deadline = time.monotonic() + seconds
    before = None
    while True:
        await pilot.pause()
        now = ["\n".join(s.text for s in rendered(view)) for view in views]
        if now == before and all(text.strip() for text in now):
            return
        assert time.monotonic() < deadline, f"the views never settled: {now}"
        before = now


def rendered(widget: Any) -> list[Any]:
    return [widget.render_line(y) for y in range(widget.size.height)]


def check_strips(strips: list[Any]) -> str:
    text = "\n".join(s.text for s in strips)
    bad = sorted({hex(ord(c)) for c in text if c in FORBIDDEN})
    assert not bad, f"raw control/bidi/zero-width characters reached the screen: {bad}"
    for strip in strips:
        for seg in strip:
            style = seg.style
            if style is not None:
                assert not style.link, f"client text became a link: {seg.text!r}"
                assert "@click" not in (style.meta or {}), f"client text became an action: {seg.text!r}"
    return text


def nasty_task(store: Store) -> TaskRow:
    ch = store.channel_by_name("api").id
    return store.get_task(store.find_message(ch, "nasty-markup").task_id)


async def test_console_renders_nasty_text_literally(gw: RunningGateway) -> None:
    for kind in NASTY:  # the webhook tests may run alone (-k): make sure the rows exist
        if stored_text(gw, f"nasty-{kind}") is None:
            await asyncio.to_thread(post, gw, f"nasty-{kind}", NASTY[kind], NASTY[kind][:60])
    task = nasty_task(gw.store)
    app = Harness(gw.store, task)
    async with app.run_test(size=(160, 100)) as pilot:
        thread = app.query_one(ThreadView)
        tasks = app.query_one(TaskList)
        await settle(pilot, thread)
        await settle(pilot, tasks)
        await drawn(pilot, thread, tasks)
        text = check_strips(rendered(thread))
        check_strips(rendered(tasks))
    # Markup shown as typed, escapes made visible, Cyrillic intact.
    assert "[bold red]alarm[/]" in text
    assert "[link=https://evil.example]click[/link]" in text
    assert "␛[31mred" in text
    assert "‹U+202E›" in text or "U+202E" in text
    assert "Здравствуйте, ёлка Ёж" in text


async def test_console_renders_a_1mb_message_quickly(gw: RunningGateway) -> None:
    if stored_text(gw, "huge") is None:
        await asyncio.to_thread(test_message_just_under_the_body_cap_is_stored_whole, gw)
    task = gw.store.get_task(gw.store.find_message(gw.channel_id("api"), "huge").task_id)
    app = Harness(gw.store, task)
    started = time.monotonic()
    async with app.run_test(size=(120, 40)) as pilot:
        thread = app.query_one(ThreadView)
        await settle(pilot, thread, seconds=30)
        strips = rendered(thread)
        elapsed = time.monotonic() - started
        text = check_strips(strips)
    assert "Привет ␛[31m" in text or "Привет" in text
    assert elapsed < 15, f"opening a thread with a 1 MB message took {elapsed:.1f} s"



@pytest.mark.postgres
def test_nul_in_client_text_is_storable_on_postgres(pg_url: str) -> None:
    from storage.errors import SwitchboardError
    from storage.inputs import Inbound

    store = Store.open(pg_url)
    try:
        ch = store.ensure_channel("generic", "api", {})
        try:
            r = store.ingest(Inbound(channel_id=ch.id, chat_id="c", sender_id="c",
                                     text="a\x00b", external_id="nul"))
        except SwitchboardError:
            return  # a clean, user-facing refusal is acceptable too
        assert store.get_message(r.message.id).text in ("a\x00b", "a\ufffdb")
    finally:
        store.close()
