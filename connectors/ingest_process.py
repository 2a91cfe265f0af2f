"""The ingest writer in a helper process: HTTP on one core, the database on another.

``switchboard serve`` on a SQLite file spends about as much CPU writing each inbound
message as it does receiving it (aiohttp, the webhook pipeline, the parse). In one
process both share one interpreter lock, and the writer's thread waits for the event
loop at every statement (bench/PROFILE.md §10). :class:`ProcessCommitWriter` keeps the
group-commit writer's contract, ``await writer.ingest(inbound)`` returning once the
message is committed, but the commits run in a child process of its own:

- the event loop hands each turn's messages to the child as one frame on its stdin
  (a 4-byte length, then a pickle of the ``Inbound`` list);
- the child takes every frame already waiting (up to ``max_batch`` messages), stores
  them with :func:`connectors.writer.commit_batch` (one transaction, one message at a
  time when that fails), and writes back one frame: each message's result or
  exception, the commits made, and the events committed;
- the parent dispatches those events on its own bus and then answers the callers, in
  the order they were sent. So its subscribers (the outbox, automation, the web
  chat's live push) hear each inbound message once, as surely as from an in-process
  commit. Other processes on the file hear it from the child
  (:class:`storage.events.RelayBus`); the parent ignores that copy.

The child's commits never copy the write-ahead log back into the database file (the
SQLite checkpoint that a commit passing 1,000 log pages runs, 15–700 ms on a big file):
a thread of the child does it beside them, as often as SQLite would have
(:mod:`storage.checkpointer`).

The child ignores SIGINT and SIGTERM: it stops when its stdin closes, after answering
what it was sent, so a Ctrl-C in the terminal cannot cut a commit short. If it dies,
its callers hear :class:`ConnectionAbortedError` (a webhook answers 5xx and the
platform delivers again, deduplicated by its message id), and the next message starts
a new child. Only SQLite uses it: on PostgreSQL the database server does the writing,
and its events travel through LISTEN/NOTIFY, which cannot tell the helper's apart.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import pickle
import secrets
import select
import signal
import struct
import sys
from typing import Any, BinaryIO

from connectors.writer import (
    GroupCommitWriter,
    Outcome,
    Pending,
    TurnHandOff,
    commit_batch,
    resolve,
    still_waiting,
)
from storage.events import Event, EventBus
from storage.inputs import Inbound
from storage.ports import IngestStore
from storage.rows import IngestResult

log = logging.getLogger(__name__)

FRAME = struct.Struct("!I")
START_TIMEOUT = 60.0  # a first start may migrate nothing, but imports on a cold disk
STOP_TIMEOUT = 30.0


def writer_for(store: IngestStore, bus: EventBus, database: str, *,
               in_process: bool) -> GroupCommitWriter | ProcessCommitWriter:
    """The gateway's ingest writer: a helper process when ``in_process`` is False and the
    bus can take its events (a SQLite file), else a thread of this process."""
    if not in_process:
        origin = f"ingest-{os.getpid()}-{secrets.token_hex(4)}"
        if bus.adopt(origin):
            return ProcessCommitWriter(store, bus, database, origin)
    return GroupCommitWriter(store)


class ProcessCommitWriter:
    """``await writer.ingest(inbound)`` returns once a helper process committed it."""

    def __init__(self, store: IngestStore, bus: EventBus, database: str, origin: str, *,
                 max_batch: int = 500, busy_patience: float = 15.0) -> None:
        self.store = store
        self.bus = bus
        self.database = database
        self.origin = origin
        self.max_batch = max_batch
        self.busy_patience = busy_patience
        self._commits = 0
        self.starts = 0  # helper processes started (a restart after a crash adds one)
        self._running = False
        self._turn = TurnHandOff(self._send)
        self._held: list[Pending] = []  # while a new helper starts
        self._sent: collections.deque[asyncio.Future[IngestResult]] = collections.deque()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._spawning: asyncio.Task[None] | None = None
        self._fallback: GroupCommitWriter | None = None  # when no helper could start

    @property
    def pid(self) -> int | None:
        """The helper's process id, while one runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def batches(self) -> int:
        """Commits made (for tests and benchmarks)."""
        return self._commits + (self._fallback.batches if self._fallback is not None else 0)

    async def start(self) -> None:
        if self._running or self._fallback is not None:
            return
        try:
            await self._spawn()
        except ConnectionAbortedError as err:  # serve anyway, on one core
            log.warning("%s; inbound messages are committed in this process instead", err)
            self._fallback = GroupCommitWriter(self.store, max_batch=self.max_batch,
                                               busy_patience=self.busy_patience)
            await self._fallback.start()
            return
        self._running = True

    async def stop(self) -> None:
        """Commit everything already handed in, then stop the helper."""
        fallback, self._fallback = self._fallback, None
        if fallback is not None:
            await fallback.stop()
        if not self._running:
            return
        self._turn.flush()
        self._running = False
        if self._spawning is not None:
            await asyncio.gather(self._spawning, return_exceptions=True)
        proc, reader = self._proc, self._reader
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()  # the child answers what it has, then exits
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_TIMEOUT)
            except TimeoutError:
                log.warning("the ingest process did not stop in %g s; killed", STOP_TIMEOUT)
                proc.kill()
                await proc.wait()
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)
        self._abort(self._held, "the ingest writer stopped")
        self._held = []

    async def ingest(self, inbound: Inbound) -> IngestResult:
        if self._fallback is not None:
            return await self._fallback.ingest(inbound)
        if not self._running:
            raise ConnectionAbortedError("the ingest writer is not running")
        return await self._turn.add(asyncio.get_running_loop(), inbound)

    # ---- the parent's side of the pipe --------------------------------------------------

    def _send(self, pending: list[Pending]) -> None:
        """Write ``pending`` to the helper as one frame (or hold it while one starts)."""
        live = still_waiting(pending)
        if not live:
            return
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            self._held.extend(live)  # the helper died: a new one takes them
            if self._spawning is None and self._running:
                self._spawning = asyncio.create_task(self._restart())
            return
        proc.stdin.write(_frame([i for i, _f in live]))
        self._sent.extend(f for _i, f in live)

    async def _spawn(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "connectors.ingest_process", "--db", self.database,
            "--origin", self.origin, "--max-batch", str(self.max_batch),
            "--busy-patience", str(self.busy_patience),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        try:
            kind, detail = await asyncio.wait_for(_read_frame(proc.stdout), START_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError, pickle.UnpicklingError) as err:
            kind, detail = "failed", f"no answer ({type(err).__name__})"
        if kind != "ready":
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            raise ConnectionAbortedError(f"the ingest process did not start: {detail}")
        self._proc = proc
        self.starts += 1
        self._reader = asyncio.create_task(self._read(proc), name="ingest-process-reader")

    async def _restart(self) -> None:
        try:
            await self._spawn()
        except Exception as err:
            log.error("%s", err)
            self._abort(self._held, str(err))
            self._held = []
            return
        finally:
            self._spawning = None
        held, self._held = self._held, []
        self._send(held)

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                kind, outcomes, commits, events = await _read_frame(proc.stdout)
                assert kind == "done"
                self._commits += commits
                for raw in events:  # subscribers hear of a message before its caller
                    self.bus.dispatch(Event(**raw))
                for outcome in outcomes:
                    resolve(self._sent.popleft(), outcome)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the helper's stdout closed: it stopped, or died
        finally:
            code = await proc.wait()
            if self._proc is proc:
                self._proc = None
            lost = list(self._sent)
            self._sent.clear()
            if self._running:
                log.error("the ingest process stopped (exit %s); %d message(s) in flight "
                          "are answered with an error and a new process starts with the next "
                          "message", code, len(lost))
            for future in lost:
                resolve(future, ConnectionAbortedError(
                    f"the ingest process stopped (exit {code}); deliver the message again"))

    @staticmethod
    def _abort(pending: list[Pending], why: str) -> None:
        for _inbound, future in pending:
            resolve(future, ConnectionAbortedError(why))


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


async def _read_frame(stream: asyncio.StreamReader) -> Any:
    (size,) = FRAME.unpack(await stream.readexactly(FRAME.size))
    return pickle.loads(await stream.readexactly(size))


# ---- the child ------------------------------------------------------------------------


class _Frames:
    """The child's stdin: blocks for the first frame, then takes every frame waiting."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False

    def batch(self, limit: int) -> list[Inbound]:
        """The next messages (at least one frame's); [] once stdin closed and drained."""
        items: list[Inbound] = []
        while True:
            frame = self._take()
            if frame is not None:
                items.extend(pickle.loads(frame))
                if len(items) >= limit:
                    return items
                continue
            if self.closed or (items and not select.select([self.fd], [], [], 0)[0]):
                return items
            self._fill()

    def _take(self) -> bytes | None:
        if len(self.buffer) < FRAME.size:
            return None
        (size,) = FRAME.unpack_from(self.buffer)
        if len(self.buffer) < FRAME.size + size:
            return None
        frame = bytes(self.buffer[FRAME.size:FRAME.size + size])
        del self.buffer[:FRAME.size + size]
        return frame

    def _fill(self) -> None:
        chunk = os.read(self.fd, 1 << 20)
        if chunk:
            self.buffer += chunk
        else:
            self.closed = True


def _portable(outcome: Outcome) -> Outcome:
    """An exception the parent can unpickle (its own, or its text in a RuntimeError)."""
    if isinstance(outcome, BaseException):
        try:
            pickle.loads(pickle.dumps(outcome))
        except Exception:
            return RuntimeError(f"{type(outcome).__name__}: {outcome}")
    return outcome


def _write(out: BinaryIO, value: Any) -> None:
    out.write(_frame(value))
    out.flush()


def child_main(argv: list[str] | None = None) -> int:
    """``python -m connectors.ingest_process --db PATH --origin O``: the helper."""
    ap = argparse.ArgumentParser(prog="python -m connectors.ingest_process")
    ap.add_argument("--db", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--max-batch", type=int, default=500)
    ap.add_argument("--busy-patience", type=float, default=15.0)
    args = ap.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):  # the parent stops us by closing stdin
        signal.signal(sig, signal.SIG_IGN)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the pipe
    logging.basicConfig(level=logging.WARNING, format="ingest process: %(message)s")
    try:
        from connectors.registry import policies
        from storage.checkpointer import checkpoint_beside
        from storage.events import RelayBus
        from storage.store import Store

        bus = RelayBus(args.db, args.origin)
        store = Store.open(args.db, bus=bus, policies=policies())
    except Exception as err:
        _write(out, ("failed", f"{type(err).__name__}: {err}"))
        return 1
    checkpointer = checkpoint_beside(store.db)  # no log copying inside these commits
    _write(out, ("ready", None))
    frames = _Frames(sys.stdin.fileno())
    try:
        while batch := frames.batch(args.max_batch):
            outcomes, commits = commit_batch(store, batch, args.busy_patience)
            if checkpointer is not None:
                checkpointer.committed(len(batch))
            events = [e.as_dict() for e in bus.take()]
            _write(out, ("done", [_portable(o) for o in outcomes], commits, events))
    except BrokenPipeError:  # the parent is gone: nobody is waiting for the answers
        return 1
    finally:
        if checkpointer is not None:
            checkpointer.close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
