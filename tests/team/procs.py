"""Driving :mod:`tests.team.child` processes: start, read their JSON lines, stop."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Child:
    def __init__(self, *args: str, module: str = "tests.team.child") -> None:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._errors: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                data = None
            if not isinstance(data, dict):  # not one of ours: kept as text
                data = {"event": "text", "text": line.rstrip("\n")}
            self.lines.put(data)
        self.lines.put(None)

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._errors.append(line)

    def expect(self, event: str, timeout: float = 60.0) -> dict[str, Any]:
        """The next line whose ``event`` is ``event`` (earlier other lines are kept in seen)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event!r} within {timeout}s; seen {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.lines.put(None)
                raise AssertionError(f"child exited before {event!r}: seen {self.seen}, "
                                     f"stderr {self.stderr()}")
            self.seen.append(line)
            if line.get("event") == event:
                return line

    def expect_text(self, part: str, timeout: float = 60.0) -> str:
        """The next plain-text line containing ``part``."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.expect("text", max(0.1, deadline - time.monotonic()))
            if part in line["text"]:
                return str(line["text"])

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def stderr(self) -> str:
        return "".join(self._errors)

    def drain(self) -> list[dict[str, Any]]:
        """Every line printed until the process exited (call after it ended)."""
        self._reader.join(timeout=30)
        while True:
            line = self.lines.get_nowait() if not self.lines.empty() else None
            if line is None:
                return self.seen
            self.seen.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


class Children:
    """Every child a test started; all are killed at teardown."""

    def __init__(self) -> None:
        self.started: list[Child] = []

    def start(self, *args: str, module: str = "tests.team.child") -> Child:
        child = Child(*args, module=module)
        self.started.append(child)
        return child

    def kill_all(self) -> None:
        for child in self.started:
            child.kill()
            for pipe in (child.proc.stdin, child.proc.stdout, child.proc.stderr):
                if pipe is not None and not pipe.closed:
                    try:
                        pipe.close()
                    except OSError:
                        pass
