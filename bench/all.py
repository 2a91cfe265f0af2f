"""Every benchmark in one run: one table of ratios, with the machine's load average.

    python -m bench.all --db /tmp/big.db [--runs 3] [--only NAME ...] [--json]
    python -m bench.all --quick                 # tiny sizes, to prove it runs (smoke)

Each benchmark runs as its own process (``python -m bench.<script> … --json``) one
after the other, so none shares a process or a warm cache with another; the 1-minute
load average is read before and after each. The table has one row per measure of
issue 20 ("Flat at any size"): the ratio against its floor measured in the same run,
the target, and whether it is met. ``bench/README.md`` keeps the latest table.
With ``--quick`` the figures mean nothing (tiny databases, 1 run): it only proves that
every script still runs end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    measure: str
    ratio: float | None
    target: str
    met: bool | None
    detail: str
    load: tuple[float, float]
    seconds: float


def _json_tail(out: str) -> Any:
    """The JSON a script printed last (one line, or the whole output for search_bench)."""
    lines = [line for line in out.strip().splitlines() if line.strip()]
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return json.loads(out[out.index("{"):])


def run_script(args: list[str], timeout: float) -> tuple[Any, tuple[float, float], float]:
    before, started = os.getloadavg()[0], time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return (_json_tail(proc.stdout), (before, os.getloadavg()[0]),
            time.perf_counter() - started)


def _shown(ratio: float, met: bool | None) -> str:
    """Two decimals, or three where two would round an unmet ratio onto its target
    (0.596 against ≥ 0.6 read "0.60 … no")."""
    two = f"{ratio:.2f}"
    return f"{ratio:.3f}" if met is False and float(two) == round(ratio, 1) else two


def _le(ratio: float | None, limit: float) -> bool | None:
    return None if ratio is None else ratio <= limit


def console(db: str | None, quick: bool, runs: int) -> list[Row]:
    args = ["bench.console_bench", "--json", "--runs", str(1 if quick else runs)]
    args += ["--quick"] if quick else ["--db", str(db)]
    r, load, sec = run_script(args, 1800)
    t, b = r["tiny"], r["big"]
    q = r["ratio"]["thread_open"]
    rows = [Row("thread open: 50k-message thread ÷ 10-message (bench.console_bench)", q, "≤ 1.2",
                _le(q, 1.2), f"{b['thread_open'] * 1000:.0f} vs {t['thread_open'] * 1000:.0f} ms",
                load, sec)]
    q = r["ratio"]["tti"]
    rows.append(Row("time-to-interactive (headless): big ÷ tiny", q, "≤ 1.5", _le(q, 1.5),
                    f"{b['tti'] * 1000:.0f} vs {t['tti'] * 1000:.0f} ms", load, sec))
    return rows


def keys(db: str | None, quick: bool, presses: int) -> list[Row]:
    args = ["bench.tmux_keys", "--json"] + (["--quick"] if quick else
                                            ["--db", str(db), "--presses", str(presses)])
    r, load, sec = run_script(args, 1800)
    q = r["ratio"]["p99_ms"]
    return [Row("task list j/k in tmux, key → repaint p99: big ÷ tiny (bench.tmux_keys)", q,
                "≤ 1.2", _le(q, 1.2),
                f"p50 {r['big']['p50_ms']:.0f} vs {r['tiny']['p50_ms']:.0f}, p99 "
                f"{r['big']['p99_ms']:.0f} vs {r['tiny']['p99_ms']:.0f} ms", load, sec)]


def launch(db: str | None, quick: bool, runs: int) -> list[Row]:
    args = ["bench.launch_bench", "--json"] + (["--quick"] if quick else
                                               ["--db", str(db), "--runs", str(runs)])
    r, load, sec = run_script(args, 1800)
    q = r["ratio"]
    return [Row("launch → first task row ÷ empty app → first frame (bench.launch_bench)", q,
                "≤ 1.5", _le(q, 1.5), f"{r['console_s']:.2f} vs {r['floor_s']:.2f} s (from the "
                f"launch record); a first start {r['first_s']:.2f} s, {r['first_ratio']:.2f}×; "
                f"the task list alone on the store {r['parts_ratio']:.2f}×", load, sec)]


def ingest(db: str | None, quick: bool, seconds: float) -> list[Row]:
    args = ["bench.ingest_bench", "--json"] + (["--quick"] if quick else
                                               ["--seconds", str(seconds), "--db", str(db)])
    r, load, sec = run_script(args, 1800)
    hook = r["webhook"]
    q = hook["rate"] / max(r["ingest_many_500"], 1e-9)
    half = hook.get("half") or {}  # the open loop at 50 % of the peak (issue 20's p99)
    p99 = half.get("p99_ms")
    return [Row("durable webhook path ÷ Store.ingest_many×500; p99 at half the peak "
                "(bench.ingest_bench)", q, "≥ 0.6; p99 ≤ 50 ms",
                q >= 0.6 and p99 is not None and p99 <= 50,
                f"{hook['rate']:,.0f} vs {r['ingest_many_500']:,.0f} msg/s; p99 "
                f"{hook['p99_ms'] or 0:.0f} ms at peak ({hook['client']}), "
                f"{p99 or 0:.0f} ms at {half.get('target_rate') or 0:,.0f}/s open loop", load, sec)]


def search(db: str | None, quick: bool, runs: int, tmp: Path) -> list[Row]:
    target = str(tmp / "search.db") if quick else str(db)
    args = ["bench.search_bench", "--json", "--db", target, "--runs", str(2 if quick else runs)]
    if quick:
        args += ["--messages", "3000"]
    r, load, sec = run_script(args, 3600)
    worst = max(r["rows"], key=lambda row: row["ratio_p99"])
    over = sum(1 for row in r["rows"] if row["ratio_p99"] > 1.5)
    return [Row("search API ÷ hand-written SQL, worst p99 (bench.search_bench)",
                worst["ratio_p99"], "≤ 1.5", worst["ratio_p99"] <= 1.5,
                f"{r['messages']:,} messages; worst `{worst['text']}` {worst['order']} "
                f"{worst['api_p99']:.1f} vs {worst['sql_p99']:.1f} ms; {over} of "
                f"{len(r['rows'])} cells over 1.5", load, sec)]


def latency(quick: bool, messages: int) -> list[Row]:
    args = ["bench.latency_bench", "--json"] + (["--quick"] if quick else
                                                ["--messages", str(messages), "--rate", "50"])
    results, load, sec = run_script(args, 1800)
    r = results[0]
    q = r["ratio_p99"]
    return [Row("webhook → visible in another console ÷ bare round trip, p99 "
                "(bench.latency_bench)", q, "≤ 5", _le(q, 5.0),
                f"p99 {r['p99_ms'] or 0:.1f} vs {r['rt_p99_ms'] or 0:.1f} ms at "
                f"{r['rate']:.0f}/s", load, sec)]


def table(rows: list[Row]) -> str:
    out = ["| measure | ratio | target | met | figures | load before → after | s |",
           "|---|---:|---|---|---|---|---:|"]
    for r in rows:
        ratio = "-" if r.ratio is None else _shown(r.ratio, r.met)
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        out.append(f"| {r.measure} | {ratio} | {r.target} | {met} | {r.detail} | "
                   f"{r.load[0]:.2f} → {r.load[1]:.2f} | {r.seconds:.0f} |")
    return "\n".join(out)


NAMES = ("console", "keys", "launch", "ingest", "search", "latency")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.all", description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="the big database (python -m bench.generate --db PATH)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one run each (smoke)")
    ap.add_argument("--runs", type=int, default=5, help="runs of the console and launch benches")
    ap.add_argument("--presses", type=int, default=300,
                    help="j/k presses on each console (300: a p99 of 100 is nearly the slowest)")
    ap.add_argument("--search-runs", type=int, default=300)
    ap.add_argument("--ingest-seconds", type=float, default=5.0)
    ap.add_argument("--latency-messages", type=int, default=1000)
    ap.add_argument("--only", nargs="+", choices=NAMES, help="run only these benchmarks")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON too")
    a = ap.parse_args(argv)
    if not a.db and not a.quick:
        ap.error("give --db PATH (made by python -m bench.generate) or --quick")
    rows: list[Row] = []
    failures: list[str] = []
    print(f"machine: {os.cpu_count()} cores, 1-minute load average at start "
          f"{os.getloadavg()[0]:.2f}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="sb-all-") as d:
        steps: dict[str, Callable[[], list[Row]]] = {
            "console": lambda: console(a.db, a.quick, a.runs),
            "keys": lambda: keys(a.db, a.quick, a.presses),
            "launch": lambda: launch(a.db, a.quick, a.runs),
            "ingest": lambda: ingest(a.db, a.quick, a.ingest_seconds),
            "search": lambda: search(a.db, a.quick, a.search_runs, Path(d)),
            "latency": lambda: latency(a.quick, a.latency_messages),
        }
        for name in [n for n in NAMES if not a.only or n in a.only]:
            print(f"running {name}…", file=sys.stderr)
            try:
                rows += steps[name]()
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as err:
                failures.append(f"{name}: {err}")
    print(table(rows))
    print(f"\n{os.cpu_count()} cores; 1-minute load average at the end {os.getloadavg()[0]:.2f}."
          + (" Quick mode: the figures mean nothing." if a.quick else ""))
    if a.json:
        print(json.dumps([r.__dict__ for r in rows]))
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
