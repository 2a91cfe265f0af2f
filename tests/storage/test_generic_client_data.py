"""Issue 13, end to end: a generic-channel client's ``data`` cannot change system data.

The exact report: a client posting ``data: {"channel": "telegram", "channel_kind":
"telegram", "previous_task": ...}`` changed the task's non-editable additional data.
Here it goes through the real gateway over HTTP (signed like a real sender), on the
first message (general ingest path) and the next one (fast path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from connectors.generic.connector import SIGNATURE_HEADER, sign
from storage.additional_data import CLIENT_KEY
from tests.reliability.harness import RunningGateway

SECRET = "client-data-secret"


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[RunningGateway]:
    g = RunningGateway(tmp_path, [("generic", "api", {"secret": SECRET})])
    yield g
    g.close()


def _post(gw: RunningGateway, payload: dict[str, object]) -> int:
    body = json.dumps(payload).encode()

    async def send() -> int:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}
        async with aiohttp.ClientSession() as s, s.post(f"{gw.base}/hooks/api", data=body,
                                                         headers=headers) as r:
            return r.status

    return gw.lt.run(send())


def test_generic_client_data_goes_to_its_own_namespace(gw: RunningGateway) -> None:
    forged = {"channel": "telegram", "channel_kind": "telegram", "previous_task": 1,
              "page": "https://evil.example", "order": "A-1"}
    for n, data in enumerate((forged, {"channel_kind": "vk", "order": "A-2"})):
        status = _post(gw, {"id": f"m-{n}", "chat_id": "c-1", "sender_id": "u-1",
                            "text": f"message {n}", "name": "Ivan", "data": data})
        assert status == 200
    (task,) = gw.store.list_tasks().items
    assert gw.store.thread_count(task.id) == 3  # the "created" event and both messages
    data = task.additional_data
    assert (data["channel"], data["channel_kind"]) == ("api", "generic")
    assert "previous_task" not in data and "page" not in data and task.previous_task_id is None
    assert data[CLIENT_KEY] == {**forged, "channel_kind": "vk", "order": "A-2"}
