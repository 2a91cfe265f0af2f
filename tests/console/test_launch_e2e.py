"""The real ``switchboard`` in a real terminal (tmux) starts from its launch record, and
a fast typist's keys from the first frame reach the right client (issue 20).

The first start writes the record; the second draws the task list from it before the
config and the store load, while the keys below are already being typed: two moves
down, Enter, a reply and the send key. The reply must be stored in the third task of
the list, and nowhere else. An edited config or a damaged record means a plain start.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.tmux import TASK_ROW, Terminal, available, term_env
from console.config_schema import DEFAULT_CHANNEL_NAME
from storage.inputs import Inbound, TaskFilter
from storage.store import Store

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not available(), reason="tmux is not installed")]

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def records(home: Path) -> list[Path]:
    return sorted((home / ".cache" / "switchboard" / "launch").glob("*.json"))


def filled_database(path: Path) -> list[int]:
    """Six web-chat tasks; returns their ids in the console's list order."""
    store = Store.open(str(path))
    try:
        web = store.ensure_channel("webchat", DEFAULT_CHANNEL_NAME).id
        for n in range(6):
            store.ingest(Inbound(channel_id=web, chat_id=f"v{n}", sender_id=f"v{n}",
                                 text=f"Вопрос номер {n}", external_id=f"e{n}",
                                 sent_at=T0 + timedelta(minutes=n),
                                 display_name=f"Посетитель {n}"))
        return [t.id for t in store.list_tasks(TaskFilter(hide_closed=True)).items]
    finally:
        store.close()


def replies_by_task(path: Path) -> dict[int, list[str]]:
    store = Store.open(str(path))
    try:
        found: dict[int, list[str]] = {}
        for task in store.list_tasks(limit=100).items:
            for message in store.thread_before(task.id).items:
                if message.author_operator_id is not None:
                    found.setdefault(task.id, []).append(message.text)
        return found
    finally:
        store.close()


def console(config: Path, home: Path) -> Terminal:
    return Terminal([sys.executable, "-m", "console", "--config", str(config)], ROOT,
                    term_env(home), size=(120, 36))


def start_and_record(config: Path, home: Path) -> None:
    """A start that runs until its launch record is written."""
    before = {p: p.stat().st_mtime_ns for p in records(home)}
    with console(config, home) as term:
        term.start()
        term.wait_for(lambda s: TASK_ROW.search(s) is not None, timeout=60)
        term.wait_for(lambda _s: any(before.get(p) != p.stat().st_mtime_ns
                                     for p in records(home)), timeout=60)


def test_a_fast_typist_from_the_first_frame_answers_the_right_client(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    order = filled_database(database)
    config = tmp_path / "config.yaml"
    config.write_text(f"operator: {{name: Борис, role: operator}}\ndatabase: {database}\n"
                      "server: {host: 127.0.0.1, port: 0}\n", encoding="utf-8")
    config.chmod(0o600)
    start_and_record(config, tmp_path)
    assert len(records(tmp_path)) == 1

    with console(config, tmp_path) as term:
        term.start()
        term.wait_for(lambda s: TASK_ROW.search(s) is not None, timeout=60)
        term.send("j", "j", "Enter")  # at once: the inbox may well not be there yet
        term.send("-l", "Добрый день, уже смотрю")
        term.send("C-s")
        term.wait_for(lambda s: "Добрый день, уже смотрю" in s and "Посетитель" in s,
                      timeout=60)
        term.settle(quiet=0.5)
    replies = replies_by_task(database)
    assert replies == {order[2]: ["Добрый день, уже смотрю"]}


def test_an_edited_config_or_a_damaged_record_starts_the_plain_way(tmp_path: Path) -> None:
    database = tmp_path / "desk.db"
    filled_database(database)
    config = tmp_path / "config.yaml"
    config.write_text(f"operator: {{name: Anna}}\ndatabase: {database}\n"
                      "server: {host: 127.0.0.1, port: 0}\n", encoding="utf-8")
    config.chmod(0o600)
    start_and_record(config, tmp_path)
    (record,) = records(tmp_path)
    record.write_text("{damaged", encoding="utf-8")
    start_and_record(config, tmp_path)  # starts, and writes a good record again
    assert record.read_text(encoding="utf-8").startswith("{")
    assert '"operator": "Anna"' in record.read_text(encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8").replace("Anna", "Ольга"),
                      encoding="utf-8")
    start_and_record(config, tmp_path)  # the old record is not for this config
    assert '"operator": "Ольга"' in record.read_text(encoding="utf-8")
