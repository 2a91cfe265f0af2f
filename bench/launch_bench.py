"""Launch → first task row in a real terminal, against an empty Textual app's first frame.

    python -m bench.launch_bench --db /tmp/big.db [--runs 5] [--json]
    python -m bench.launch_bench --quick        # a tiny generated database (smoke)

Each run starts a fresh process in a private tmux server (``bench/tmux.py``) at
160×50 and polls ``capture-pane`` until the screen shows what the user waits for:

- **console**: ``python -m console`` (the ``switchboard`` entry point) on the database
  (its own config: a generated operator, the in-process gateway on a free port) → the
  first task row (``#<n> ``). As every start after the first, it starts from the
  launch record the previous start wrote (``console/launch.py``): the real task list
  is drawn before the config is validated and the store is loaded;
- **first start** (reported, not the target): the same command with the launch record
  removed first, as on the very first start or after the config changed: the config
  and the store load before the first frame. It runs on until it has written the
  record, which the next **console** run starts from;
- **floor**: ``python -m bench.launch_bench --empty-app`` (an App with one Label) →
  its label on screen;
- **parts** (a bound, not a target): ``python -m bench.launch_bench --list-only DB``,
  the cheapest first frame the product's own parts can draw: an App holding only the
  real ``TaskList`` on the real ``Store`` (no config, no other pane, no theme) → its
  first task row. What the console adds beyond it is the config, the other panes and
  the app's wiring; what it costs beyond the floor is the storage layer and the list
  (bench/PROFILE.md §13).

The clock starts just before ``tmux new-session``, so all four include the
interpreter's start, the imports and the terminal set-up. They alternate; medians of
``--runs``; the ratio is console ÷ floor (target ≤ 1.5, issue 20), and the bound's is
parts ÷ floor.

Bytecode: an installed Switchboard, like Textual in site-packages, runs from compiled
bytecode (pip compiles it at install). A working tree often has none (or stale
``.pyc`` files: several people edit it, and the runs do not write bytecode), and
compiling a hundred modules from source on every launch is not what an operator waits
for. So both commands run with a private ``PYTHONPYCACHEPREFIX``, filled by one
unmeasured launch of each first; ``--cold`` skips that (the tree's bytecode, as is).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
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


def run_list_only(db: str) -> None:
    """An App with only the task list on the store: the first-frame bound (module doc)."""
    from storage.database_url import import_orm_for

    url = f"sqlite:///{db}"
    import_orm_for(url)
    from textual.app import App, ComposeResult

    from storage.store import Store
    from widgets.task_list import TaskList

    class ListOnly(App[None]):
        def __init__(self, store: Store) -> None:
            super().__init__()
            self.store = store

        def compose(self) -> ComposeResult:
            yield TaskList(self.store, id="tasks")

    store = Store.open(url)
    try:
        ListOnly(store).run()
    finally:
        store.close()


def row_shown(screen: str) -> bool:
    return TASK_ROW.search(screen) is not None


def empty_shown(screen: str) -> bool:
    return EMPTY_MARK in screen


def launch_once(command: list[str], ready: Any, env: dict[str, str],
                keep_until: Callable[[], bool] | None = None) -> float:
    """Seconds from ``tmux new-session`` to ``ready(screen)``; with ``keep_until``, the
    console then runs on until that holds (e.g. its launch record is written)."""
    with Terminal(command, ROOT, env) as term:
        started = term.start()
        seen, _screen = term.wait_for(ready, timeout=120)
        if keep_until is not None:
            term.wait_for(lambda _s: keep_until(), timeout=60)
        return seen - started


def launch_records(home: Path) -> list[Path]:
    """The console's launch records under the terminal's private HOME (console.launch_record)."""
    return sorted((home / ".cache" / "switchboard" / "launch").glob("*.json"))


def forget_launch(home: Path) -> None:
    for path in launch_records(home):
        path.unlink()


def bench_env(tmp: Path, cold: bool) -> dict[str, str]:
    """The terminal's environment; unless ``cold``, bytecode in a private cache."""
    env = term_env(tmp)
    if not cold:
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def measure(db: str, runs: int, cold: bool = False) -> dict[str, Any]:
    load = os.getloadavg()[0]
    consoles: list[float] = []
    firsts: list[float] = []
    floors: list[float] = []
    parts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sb-launch-") as d:
        tmp = Path(d)
        config = console_config(tmp, db)
        env = bench_env(tmp, cold)
        empty = [sys.executable, "-m", "bench.launch_bench", "--empty-app"]
        console = console_command(sys.executable, config)
        list_only = [sys.executable, "-m", "bench.launch_bench", "--list-only", db]

        def recorded() -> bool:
            return bool(launch_records(tmp))

        if not cold:  # one unmeasured launch of each writes their bytecode
            warm = env | {"PYTHONDONTWRITEBYTECODE": ""}  # empty: write (even if inherited)
            launch_once(empty, empty_shown, warm)
            launch_once(console, row_shown, warm, keep_until=recorded)
            launch_once(list_only, row_shown, warm)
        for _ in range(runs):
            floors.append(launch_once(empty, empty_shown, env))
            forget_launch(tmp)  # a first start: no launch record yet
            firsts.append(launch_once(console, row_shown, env, keep_until=recorded))
            consoles.append(launch_once(console, row_shown, env))  # from the record
            parts.append(launch_once(list_only, row_shown, env))
    console_s, floor = statistics.median(consoles), statistics.median(floors)
    first_s, parts_s = statistics.median(firsts), statistics.median(parts)
    return {"db": db, "runs": runs, "console_s": console_s, "floor_s": floor,
            "ratio": console_s / floor, "console_all": consoles, "floor_all": floors,
            "first_s": first_s, "first_ratio": first_s / floor, "first_all": firsts,
            "parts_s": parts_s, "parts_ratio": parts_s / floor, "parts_all": parts,
            "target": TARGET, "bytecode": "tree" if cold else "warm",
            "load": (load, os.getloadavg()[0])}


def report(r: dict[str, Any]) -> str:
    return (f"launch → first task row: {r['console_s']:.3f} s; empty Textual app → first "
            f"frame: {r['floor_s']:.3f} s; ratio {r['ratio']:.2f} (target ≤ {TARGET}: "
            f"{'MET' if r['ratio'] <= TARGET else 'NOT MET'}); medians of {r['runs']} in "
            f"tmux, {r['bytecode']} bytecode; load {r['load'][0]:.2f} → {r['load'][1]:.2f}\n"
            f"first start (no launch record yet: the config and the store load before the "
            f"first frame): {r['first_s']:.3f} s, {r['first_ratio']:.2f} × the empty app\n"
            f"bound: the task list alone on the store → first row: {r['parts_s']:.3f} s, "
            f"{r['parts_ratio']:.2f} × the empty app (PROFILE.md §13)")


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
    ap.add_argument("--cold", action="store_true",
                    help="use the tree's bytecode as it is (no private warmed cache)")
    ap.add_argument("--empty-app", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--list-only", metavar="DB", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.empty_app:
        run_empty_app()
        return 0
    if a.list_only:
        run_list_only(a.list_only)
        return 0
    if not a.db and not a.quick:
        ap.error("give --db PATH or --quick")
    with tempfile.TemporaryDirectory(prefix="sb-launch-db-") as d:
        db = a.db or tiny_db(Path(d))
        result = measure(db, 1 if a.quick else a.runs, a.cold)
    print(report(result))
    if a.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
