"""Console benchmark: time-to-interactive and thread-open time, big database vs tiny.

    python -m bench.console_bench --db BIG.db            # a database made by bench.generate
    python -m bench.console_bench --generate PATH        # generate 100k tasks / 1M messages first
    python -m bench.console_bench --quick                # tiny generated databases (smoke run)

What is measured, in one run, on the big database and on a tiny one (10 tasks, a
10-message thread) generated into a temporary directory, each in a fresh subprocess
(so peak memory is per database), median of ``--runs``:

* **time-to-interactive**: from ``App.run_test`` entry to the first frame after the
  task list's first page is shown (a minimal harness app mounting ``TaskList`` and
  ``ThreadView`` side by side, 160×50 headless);
* **thread-open**: ``ThreadView.show_task`` on the database's biggest thread (the
  generator's 50,000-message task) to the first frame showing its end, coming from
  another task each time as an operator does; the median of :data:`OPENS` opens per
  run (one open is one frame: a single sample per process was mostly noise);
* **peak RSS** of the measuring process (``ru_maxrss``);
* the floor, in the same process: an empty Textual app's mount → first frame.

The report is the big/tiny **ratio** of each (1.0 means "as fast with 100,000 tasks
as with 10"), with absolute numbers beside it. Results go to stdout as a table and,
with ``--json``, as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZE = (160, 50)
# Thread opens per run (coming from another task each time); the median counts. Each
# open waits for Textual's next frame (a 60 fps grid: 0–17 ms of ~30), so with 7 opens
# the same code gave 1.03–1.37 between runs; with 15, 1.12–1.17 (bench/PROFILE.md §11).
OPENS = 15


# ---- the measuring child -------------------------------------------------------------
def _measure(db: str, opens_per_run: int = OPENS) -> dict[str, Any]:
    """Run the harness app once on ``db``; returns seconds and the peak RSS."""
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal

    from connectors.registry import policies
    from storage.store import Store
    from widgets.task_list import TaskList
    from widgets.thread_view import ThreadView

    class Empty(App[None]):
        pass

    class TimedThreadView(ThreadView):
        """Marks the first frame drawn from a newly arrived window (the view's own hook,
        before it lays out the rest of the page and prefetches the page before)."""

        def _window_drawn(self) -> None:
            self.app._painted_thread()  # type: ignore[attr-defined]

    async def floor() -> float:
        started = time.perf_counter()
        app = Empty()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return time.perf_counter() - started

    store = Store.open(db, policies=policies())
    try:
        big_task_id = int(store.get_state("bench.big_thread_task") or 0) or None
        if big_task_id is None:  # not a generated database: take the newest task
            page = store.list_tasks(None, None, 1)
            big_task_id = page.items[0].id if page.items else None
        thread_count = store.thread_count(big_task_id) if big_task_id else 0
        task_count = store.count_tasks()

        class Harness(App[None]):
            CSS = "TaskList { width: 48; } ThreadView { width: 1fr; }"

            def __init__(self) -> None:
                super().__init__()
                self.first_page = asyncio.Event()
                self.thread_shown = asyncio.Event()
                self.t_first_page = 0.0
                self.t_thread = 0.0
                self.first_window = 0

            def compose(self) -> ComposeResult:
                with Horizontal():
                    yield TaskList(store, id="tasks")
                    yield TimedThreadView(store, id="thread")

            def on_task_list_highlighted(self, _message: TaskList.Highlighted) -> None:
                if not self.first_page.is_set():
                    self.call_after_refresh(self._painted_list)

            def _painted_list(self) -> None:
                self.t_first_page = time.perf_counter()
                self.first_page.set()

            def _painted_thread(self) -> None:
                if not self.thread_shown.is_set():  # cleared before each open
                    self.t_thread = time.perf_counter()
                    self.first_window = len(self.query_one(ThreadView).messages)
                    self.thread_shown.set()

        async def settle(pilot: Any) -> None:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        async def run() -> dict[str, Any]:
            app = Harness()
            started = time.perf_counter()
            async with app.run_test(size=SIZE) as pilot:
                await asyncio.wait_for(app.first_page.wait(), 60)
                tti = app.t_first_page - started
                await pilot.pause()
                view = app.query_one(ThreadView)
                task_list = app.query_one(TaskList)
                task = store.get_task(big_task_id) if big_task_id else None
                other = next((t for t in store.list_tasks(None, None, 5).items
                              if task is None or t.id != task.id), None)
                opens: list[float] = []
                for _ in range(opens_per_run if task is not None else 0):
                    if other is not None:  # the operator comes from another task
                        app.thread_shown.clear()
                        view.show_task(other)
                        await asyncio.wait_for(app.thread_shown.wait(), 60)
                        await settle(pilot)
                    app.thread_shown.clear()
                    opened = time.perf_counter()
                    view.show_task(task)
                    await asyncio.wait_for(app.thread_shown.wait(), 60)
                    opens.append(app.t_thread - opened)
                    await settle(pilot)  # its prefetch of the page before lands first
                thread_open = statistics.median(opens) if opens else 0.0
                window = app.first_window  # what the first frame was drawn from
                lines = [view.render_line(y).text for y in range(view.size.height)]
                return {"tti": tti, "thread_open": thread_open, "first_open": opens[0] if opens else 0.0,
                        "pages_loaded": task_list.pages_loaded,
                        "rows_loaded": len(task_list.rows),
                        "window": window,
                        "at_end": view.at_end,
                        "shown_lines": sum(1 for line in lines if line.strip())}

        result = asyncio.run(run())
        result["floor"] = asyncio.run(floor())
        result["tasks"] = task_count
        result["thread_messages"] = thread_count
    finally:
        store.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# ---- the parent: databases, runs, ratios ---------------------------------------------
def _run_child(db: str, opens: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.console_bench", "--child", db,
                          "--opens", str(opens)],
                         check=True, capture_output=True, text=True, timeout=600)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _generate(path: str, contacts: int, tasks: int, messages: int, big: int) -> None:
    from bench.generate import generate

    print(f"generating {path}: {tasks:,} tasks, {messages:,} messages, thread of {big:,}…",
          file=sys.stderr)
    generate(path, contacts, tasks, messages, big, quiet=True)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.console_bench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="the big database (made by python -m bench.generate)")
    ap.add_argument("--generate", metavar="PATH",
                    help="generate the big database at PATH first (100k tasks, 1M messages)")
    ap.add_argument("--quick", action="store_true",
                    help="generate small databases (2,000 tasks, 20,000 messages, 5,000 thread)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object too")
    ap.add_argument("--opens", type=int, default=None,
                    help=f"thread opens per run (default {OPENS}; --quick: 2)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(_measure(a.child, a.opens or OPENS)))
        return 0

    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        tiny = str(Path(tmp) / "tiny.db")
        _generate(tiny, 5, 10, 30, 10)
        big = a.db
        if a.quick:
            big = str(Path(tmp) / "quick.db")
            _generate(big, 500, 2_000, 20_000, 5_000)
        elif a.generate:
            big = a.generate
            if not Path(big).exists():
                _generate(big, 10_000, 100_000, 1_000_000, 50_000)
        if not big:
            ap.error("give --db PATH, --generate PATH or --quick")
        opens = a.opens or (2 if a.quick else OPENS)
        small_runs: list[dict[str, Any]] = []
        big_runs: list[dict[str, Any]] = []
        for _ in range(a.runs):  # alternate, so drift hits both sides alike
            small_runs.append(_run_child(tiny, opens))
            big_runs.append(_run_child(big, opens))

    report: dict[str, Any] = {"runs": a.runs, "size": f"{SIZE[0]}x{SIZE[1]}"}
    for name, runs in (("tiny", small_runs), ("big", big_runs)):
        report[name] = {key: round(_median(runs, key), 4) for key in
                        ("tti", "thread_open", "floor", "peak_rss_mb")}
        report[name].update({key: runs[-1][key] for key in
                             ("tasks", "thread_messages", "pages_loaded", "rows_loaded", "window",
                              "at_end", "shown_lines")})
    report["ratio"] = {key: round(report["big"][key] / max(report["tiny"][key], 1e-9), 2)
                       for key in ("tti", "thread_open", "peak_rss_mb")}
    t, b, r = report["tiny"], report["big"], report["ratio"]
    print(f"{'':28}{'tiny':>12}{'big':>12}{'big/tiny':>10}")
    print(f"{'tasks':28}{t['tasks']:>12,}{b['tasks']:>12,}")
    print(f"{'messages in opened thread':28}{t['thread_messages']:>12,}{b['thread_messages']:>12,}")
    print(f"{'time-to-interactive (s)':28}{t['tti']:>12.3f}{b['tti']:>12.3f}{r['tti']:>10.2f}")
    print(f"{'thread open (s)':28}{t['thread_open']:>12.3f}{b['thread_open']:>12.3f}"
          f"{r['thread_open']:>10.2f}")
    print(f"{'peak RSS (MB)':28}{t['peak_rss_mb']:>12.1f}{b['peak_rss_mb']:>12.1f}"
          f"{r['peak_rss_mb']:>10.2f}")
    print(f"{'floor: empty app (s)':28}{t['floor']:>12.3f}{b['floor']:>12.3f}")
    print(f"{'task pages / rows loaded':28}{t['pages_loaded']:>6}/{t['rows_loaded']:<5}"
          f"{b['pages_loaded']:>6}/{b['rows_loaded']:<5}")
    print(f"{'thread window (messages)':28}{t['window']:>12}{b['window']:>12}")
    if a.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
