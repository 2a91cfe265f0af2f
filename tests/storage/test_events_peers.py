"""Change events between processes on one SQLite file (storage.wakeup), with real
processes: a commit in a child process reaches this process's subscribers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from storage.events import Event
from storage.inputs import Inbound
from storage.store import Store
from storage.wakeup import peer_directory

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys
    from connectors.registry import policies
    from storage.inputs import Inbound
    from storage.store import Store

    store = Store.open(sys.argv[1], policies=policies())
    channel = store.ensure_channel("generic", "crm", {})
    result = store.ingest(Inbound(channel_id=channel.id, chat_id="c-1", sender_id="c-1",
                                  text="from the other process", external_id=sys.argv[2]))
    print(result.message.id, flush=True)
    store.close()
""")


def run_child(path: Path, external_id: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), external_id], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout.strip())


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.threads: set[str] = set()
        self.changed = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)
            self.changed.notify_all()

    def wait_for_message(self, message_id: int, timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: any(
                e.kind == "message.stored" and e.message_id == message_id for e in self.events),
                timeout)


def test_a_commit_in_another_process_reaches_subscribers(sqlite_path: Path,
                                                         sqlite_store: Store) -> None:
    recorder = Recorder()
    unsubscribe = sqlite_store.bus.subscribe(recorder)
    message_id = run_child(sqlite_path, "m-1")
    assert recorder.wait_for_message(message_id)
    assert recorder.threads == {"sqlite-events"}  # the listener, not a poll in this thread
    stored = next(e for e in recorder.events if e.message_id == message_id)
    assert sqlite_store.get_message(stored.message_id).text == "from the other process"
    unsubscribe()


def test_own_commits_are_dispatched_once(sqlite_store: Store) -> None:
    recorder = Recorder()
    sqlite_store.bus.subscribe(recorder)
    channel = sqlite_store.ensure_channel("generic", "crm", {})
    result = sqlite_store.ingest(Inbound(channel_id=channel.id, chat_id="c", sender_id="c",
                                         text="here", external_id="x"))
    assert recorder.wait_for_message(result.message.id)
    stored = [e for e in recorder.events if e.kind == "message.stored"]
    assert [e.message_id for e in stored].count(result.message.id) == 1


def test_a_writer_without_subscribers_binds_nothing_and_stale_sockets_go(
        sqlite_path: Path) -> None:
    directory = peer_directory(str(sqlite_path))
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    stale = directory / "999999-dead.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(stale))
    sock.close()  # its process "died": the file stays, nobody listens
    message_id = run_child(sqlite_path, "m-2")
    assert message_id > 0
    assert not stale.exists()  # the child's publish found it dead and removed it
    assert [n for n in os.listdir(directory) if n.endswith(".sock")] == []


def test_a_directory_others_can_write_to_is_not_used(
        sqlite_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = peer_directory(str(sqlite_path))
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o777)  # another local user could plant or read sockets here
    store = Store.open(str(sqlite_path))
    try:
        recorder = Recorder()
        store.bus.subscribe(recorder)
        store.bus.subscribe(lambda event: None)  # asked again: no second warning
        channel = store.ensure_channel("generic", "crm", {})
        result = store.ingest(Inbound(channel_id=channel.id, chat_id="c", sender_id="c",
                                      text="local only", external_id="x"))
        assert recorder.wait_for_message(result.message.id)  # in-process events still flow
        assert os.listdir(directory) == []  # nothing bound there
    finally:
        store.close()
        os.chmod(directory, 0o700)
    warnings = [r for r in caplog.records if "not a private directory" in r.getMessage()]
    assert len(warnings) == 1
