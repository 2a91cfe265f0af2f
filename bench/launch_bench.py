"""Launch → first task row in a real terminal, against an empty Textual app's first frame.

    python -m bench.launch_bench --db /tmp/big.db [--runs 5] [--json]
    python -m bench.launch_bench --quick        # a tiny generated database (smoke)

Each run starts a fresh process in a private tmux server (``bench/tmux.py``) at
160×50 and polls ``capture-pane`` until the screen shows what the user waits for:

- **console**: ``python -m console.cli`` on the database (its own config: a generated
  operator, the in-process gateway on a free port) → the first task row (``#<n> ``);
- **floor**: ``python -m bench.launch_bench --empty-app`` (an App with one Label) →
  its label on screen.

The clock starts just before ``tmux new-session``, so both include the interpreter's
start, the imports and the terminal set-up. Console and floor alternate; medians of
``--runs``; the ratio is console ÷ floor (target ≤ 1.5, issue 20).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.tmux import TASK_ROW, Terminal, console_command, console_config, term_env

ROOT = Path(__file__).resolve().parents[1]
EMPTY_MARK = "EMPTY-APP-FIRST-FRAME"
TARGET = 1.5


def run_empty_app() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class Empty(App[None]):
        def compose(self) -> ComposeResult:
            yield Label(EMPTY_MARK)

    Empty().run()


def launch_once(command: list[str], ready: Any, tmp: Path) -> float:
    with Terminal(command, ROOT, term_env(tmp)) as term:
        started = term.start()
        seen, _screen = term.wait_for(ready, timeout=120)
        return seen - started


def measure(db: str, runs: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    consoles: list[float] = []
    floors: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sb-launch-") as d:
        tmp = Path(d)
        config = console_config(tmp, db)
        empty = [sys.executable, "-m", "bench.launch_bench", "--empty-app"]
        for _ in range(runs):
            floors.append(launch_once(empty, lambda s: EMPTY_MARK in s, tmp))
            consoles.append(launch_once(console_command(sys.executable, config),
                                        lambda s: TASK_ROW.search(s) is not None, tmp))
    console, floor = statistics.median(consoles), statistics.median(floors)
    return {"db": db, "runs": runs, "console_s": console, "floor_s": floor,
            "ratio": console / floor, "console_all": consoles, "floor_all": floors,
            "target": TARGET, "load": (load, os.getloadavg()[0])}


def report(r: dict[str, Any]) -> str:
    return (f"launch → first task row: {r['console_s']:.3f} s; empty Textual app → first "
            f"frame: {r['floor_s']:.3f} s; ratio {r['ratio']:.2f} (target ≤ {TARGET}: "
            f"{'MET' if r['ratio'] <= TARGET else 'NOT MET'}); medians of {r['runs']} in "
            f"tmux; load {r['load'][0]:.2f} → {r['load'][1]:.2f}")


def tiny_db(directory: Path) -> str:
    from bench.generate import generate

    path = str(directory / "tiny.db")
    generate(path, 5, 10, 30, 10, quiet=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.launch_bench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="the database (made by python -m bench.generate)")
    ap.add_argument("--quick", action="store_true", help="a tiny generated database, 1 run")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object too")
    ap.add_argument("--empty-app", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.empty_app:
        run_empty_app()
        return 0
    if not a.db and not a.quick:
        ap.error("give --db PATH or --quick")
    with tempfile.TemporaryDirectory(prefix="sb-launch-db-") as d:
        db = a.db or tiny_db(Path(d))
        result = measure(db, 1 if a.quick else a.runs)
    print(report(result))
    if a.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
