"""Task list ``j``/``k`` in a real terminal: key → screen changed, big database ÷ tiny.

    python -m bench.tmux_keys --db /tmp/big.db [--presses 300] [--json]
    python -m bench.tmux_keys --quick           # tiny vs a small generated database (smoke)

The real console (``python -m console``, the ``switchboard`` entry point) runs in a private tmux server
(``bench/tmux.py``) at 160×50, once on the big database and once on a tiny generated
one (10 tasks). After the first task row is shown and the screen has settled, the
benchmark presses ``j`` and ``k`` alternately (so the cursor stays among the first
rows, where an operator works): each press is ``send-keys``, then ``capture-pane -e``
is polled until the screen differs (a moved highlight changes the colours), and the
time from just before ``send-keys`` to that capture is one sample. Before the next
press the screen must be still for ``--quiet`` seconds (the thread beside the list may
follow the highlight). The tiny and the big console are driven in alternating rounds,
so drift in the machine's load hits both alike. Reported: p50 / p90 / p99 of each and
big ÷ tiny (target p99 ≤ 1.2, issue 20). The polling itself costs one ``tmux``
process per capture (a few ms): it is the same on both sides and sets the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.tmux import TASK_ROW, Terminal, console_command, console_config, term_env

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99 = 1.2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50_ms": percentile(samples, 0.5) * 1000,
            "p90_ms": percentile(samples, 0.9) * 1000, "p99_ms": percentile(samples, 0.99) * 1000}


class Console:
    """One console in tmux on one database, ready for key presses."""

    def __init__(self, db: str, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        config = console_config(directory, db)
        self.term = Terminal(console_command(sys.executable, config), ROOT, term_env(directory))
        self.samples: list[float] = []
        self.presses = 0

    def __enter__(self) -> Console:
        self.term.start()
        self.term.wait_for(lambda s: TASK_ROW.search(s) is not None, timeout=120)
        return self

    def __exit__(self, *exc: object) -> None:
        self.term.close()

    def press(self, quiet: float) -> None:
        before = self.term.settle(quiet)
        key = "j" if self.presses % 2 == 0 else "k"
        sent = self.term.send(key)
        seen, _screen = self.term.wait_change(before)
        self.samples.append(seen - sent)
        self.presses += 1


def measure(big_db: str, tiny_db: str, presses: int, quiet: float, warmup: int = 4
            ) -> dict[str, Any]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sb-keys-") as d, \
            Console(tiny_db, Path(d) / "tiny") as tiny, Console(big_db, Path(d) / "big") as big:
        for console in (tiny, big):
            for _ in range(warmup):
                console.press(quiet)
            console.samples.clear()
        rounds = max(1, presses // 10)
        for _ in range(rounds):  # alternate in rounds of 10 presses
            for console in (tiny, big):
                for _ in range(10):
                    console.press(quiet)
        t, b = summary(tiny.samples), summary(big.samples)
    ratio = {k: b[k] / max(t[k], 1e-9) for k in ("p50_ms", "p90_ms", "p99_ms")}
    return {"tiny": t, "big": b, "ratio": ratio, "target_p99": TARGET_P99,
            "load": (load, os.getloadavg()[0]), "big_db": big_db}


def report(r: dict[str, Any]) -> str:
    t, b, q = r["tiny"], r["big"], r["ratio"]
    lines = [f"task list j/k, key → screen changed (tmux), {b['n']} presses each; load "
             f"{r['load'][0]:.2f} → {r['load'][1]:.2f}",
             f"{'':12}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}"]
    for label, s in (("tiny", t), ("big", b)):
        lines.append(f"{label:12}{s['p50_ms']:>10.1f}{s['p90_ms']:>10.1f}{s['p99_ms']:>10.1f}")
    lines.append(f"{'big ÷ tiny':12}{q['p50_ms']:>10.2f}{q['p90_ms']:>10.2f}{q['p99_ms']:>10.2f}")
    lines.append(f"target p99 ≤ {TARGET_P99}: {'MET' if q['p99_ms'] <= TARGET_P99 else 'NOT MET'}")
    return "\n".join(lines)


def generate(path: Path, tasks: int) -> str:
    from bench.generate import generate as fill

    fill(str(path), tasks, tasks, tasks * 3, 10, quiet=True)  # one task per client: all open
    return str(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.tmux_keys",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="the big database (made by python -m bench.generate)")
    ap.add_argument("--quick", action="store_true",
                    help="a small generated database instead of --db, 10 presses")
    ap.add_argument("--presses", type=int, default=300, help="presses on each console")
    ap.add_argument("--quiet", type=float, default=0.15,
                    help="seconds the screen must be still before each press")
    ap.add_argument("--json", action="store_true", help="print one JSON object too")
    a = ap.parse_args(argv)
    if not a.db and not a.quick:
        ap.error("give --db PATH or --quick")
    with tempfile.TemporaryDirectory(prefix="sb-keys-db-") as d:
        tiny = generate(Path(d) / "tiny.db", 10)
        big = a.db or generate(Path(d) / "small.db", 200)
        result = measure(big, tiny, 10 if a.quick else a.presses, a.quiet)
    print(report(result))
    if a.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
