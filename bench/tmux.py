"""A real terminal for the benchmarks: one private tmux server per run.

``Terminal`` starts a command in a detached tmux session on its own socket
(``tmux -L NAME``), so it never touches a user's tmux; ``send`` types keys with
``send-keys``; ``wait_for`` and ``wait_change`` poll ``capture-pane -e`` (the screen as
the terminal shows it, colours included, so a moved highlight counts as a change)
until a condition holds, and return the moment it did. ``close`` kills the server it
started. Also: ``console_config`` writes a config for a console on a bench database
(an operator the generator created, a free port for its gateway).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

SIZE = (160, 50)
TASK_ROW = re.compile(r"#\d+ ")  # a task list row starts with "#<number> "


class TerminalError(RuntimeError):
    """The command died or the screen never showed what was awaited."""


def available() -> bool:
    return shutil.which("tmux") is not None


class Terminal:
    """One tmux server with one pane running ``command``."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None,
                 size: tuple[int, int] = SIZE) -> None:
        self.socket = f"sb-bench-{os.getpid()}-{time.monotonic_ns()}"
        self.command = command
        self.cwd = cwd
        self.env = env or {}
        self.size = size
        self.started = 0.0
        self.socket_path = ""

    def _tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30)
        if check and proc.returncode != 0:
            raise TerminalError(f"tmux {args[0]}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self) -> float:
        """Start the command; returns the monotonic time just before tmux was asked."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        line = f"cd {shlex.quote(str(self.cwd))} && exec env {env} " + shlex.join(self.command)
        self.started = time.perf_counter()
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x",
                   str(self.size[0]), "-y", str(self.size[1]), line)
        self._tmux("set-option", "-t", "bench", "remain-on-exit", "on", check=False)
        self.socket_path = self._tmux("display-message", "-p", "#{socket_path}",
                                      check=False).strip()
        return self.started

    def capture(self, escapes: bool = True) -> str:
        args = ["capture-pane", "-p", "-t", "bench"] + (["-e"] if escapes else [])
        return self._tmux(*args)

    def dead(self) -> bool:
        out = self._tmux("display-message", "-p", "-t", "bench", "#{pane_dead}", check=False)
        return out.strip() == "1"

    def send(self, *keys: str) -> float:
        """Type ``keys``; returns the monotonic time just before send-keys."""
        t = time.perf_counter()
        self._tmux("send-keys", "-t", "bench", *keys)
        return t

    def wait_for(self, check: Callable[[str], bool], timeout: float = 60.0,
                 escapes: bool = False) -> tuple[float, str]:
        """Poll until ``check(screen)``; returns (the moment it held, the screen)."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.capture(escapes)
            now = time.perf_counter()
            if check(screen):
                return now, screen
            if now > deadline or self.dead():
                raise TerminalError("the screen never showed what was awaited:\n"
                                    + self.capture(False)[-3000:])

    def wait_change(self, before: str, timeout: float = 10.0) -> tuple[float, str]:
        """Poll (with escapes) until the screen differs from ``before``."""
        return self.wait_for(lambda s: s != before, timeout, escapes=True)

    def settle(self, quiet: float = 0.25, timeout: float = 30.0) -> str:
        """Wait until the screen has not changed for ``quiet`` seconds; returns it."""
        deadline = time.perf_counter() + timeout
        screen = self.capture()
        since = time.perf_counter()
        while time.perf_counter() - since < quiet:
            if time.perf_counter() > deadline:
                raise TerminalError("the screen never settled")
            now = self.capture()
            if now != screen:
                screen, since = now, time.perf_counter()
        return screen

    def close(self) -> None:
        """Kill the server this terminal started and remove its socket file."""
        self._tmux("kill-server", check=False)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def console_config(directory: Path, db: str, operator: str = "Борис") -> Path:
    """A config file for a console on ``db``: a generated operator, a free gateway port."""
    path = directory / "config.yaml"
    path.write_text(
        f"operator: {{name: {operator}, role: operator}}\n"
        f"database: {db}\n"
        "server: {host: 127.0.0.1, port: 0}\n", encoding="utf-8")
    return path


def console_command(python: str, config: Path) -> list[str]:
    return [python, "-m", "console", "--config", str(config)]


def term_env(directory: Path) -> dict[str, str]:
    """Same terminal for every run; a private HOME so no user state leaks in."""
    return {"TERM": "xterm-256color", "COLORTERM": "truecolor", "HOME": str(directory),
            "XDG_CONFIG_HOME": str(directory / "cfg"), "XDG_DATA_HOME": str(directory / "data"),
            "XDG_CACHE_HOME": str(directory / ".cache"),
            "PYTHONDONTWRITEBYTECODE": "1"}
