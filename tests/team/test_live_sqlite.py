"""Live on SQLite: a console on the SQLite file beside a running ``switchboard serve``
starts no gateway of its own and still shows a message the serve process stores, live.

The serve process is real (``console.cli serve``); the message reaches it over HTTP as
a signed generic webhook; the console is the app ``make_console`` builds, run with Pilot.
The change travels only through the file's cross-process wake-up (no polling).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from connectors.generic.connector import SIGNATURE_HEADER, sign
from connectors.serve_marker import serve_running
from console.bootstrap import open_store
from console.cli import make_console
from console.config import parse_config
from tests.team.procs import Children
from widgets.task_list import TaskList

SECRET = "live-secret"
CONFIG = ("operator: {name: Anna}\nlanguage: en\nserver: {host: 127.0.0.1, port: 0}\n"
          f"channels: [{{name: api, kind: generic, options: {{secret: {SECRET}}}}}]\n")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def post_webhook(url: str, payload: dict[str, str]) -> dict[str, object]:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


async def test_a_console_beside_serve_shows_a_new_message_live(
        tmp_path: Path, sqlite_path: Path, children: Children) -> None:
    config_path = tmp_path / "anna.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config_path.chmod(0o600)
    serve = children.start("--config", str(config_path), "--db", str(sqlite_path), "serve",
                           module="console.cli")
    line = serve.expect_text("Webhook for api:")
    url = re.search(r"http://127\.0\.0\.1:\d+/\S+", line)
    assert url is not None, line
    serve.expect_text("Serving")
    assert serve_running(str(sqlite_path))

    config = parse_config(CONFIG)
    store = open_store(config, str(sqlite_path))
    try:
        app = make_console(store, config)
        assert app.gateway is None  # the serve process runs the channels
        async with app.run_test(size=(120, 36)) as pilot:
            tasks = app.screen.query_one(TaskList)
            assert not [t for t in tasks.rows if t.channel_name == "api"]
            answer = await asyncio.to_thread(post_webhook, url.group(), {
                "id": "m-1", "chat_id": "c-9", "sender_id": "u-9", "name": "Ivan",
                "text": "Is my order on its way?"})
            assert answer["ok"] is True
            deadline = time.monotonic() + 10
            while not [t for t in tasks.rows if t.channel_name == "api"
                       and "Is my order on its way?" in t.last_preview]:
                assert time.monotonic() < deadline, "the new task never showed"
                await pilot.pause()
            assert app.gateway is None
        # the message was stored once, by the serve process
        assert [t.contact_name for t in store.list_tasks(limit=10).items] == ["Ivan"]
    finally:
        store.close()
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=60) == 0
