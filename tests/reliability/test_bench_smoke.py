"""Every benchmark script runs in its tiny ``--quick`` mode, so none of them can rot.

The figures of a quick run mean nothing (tiny sizes, a shared CI machine): these
tests only check that each script runs end to end against the current code, exits 0
and prints its report. The real runs and their figures are in bench/README.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 240) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_generate_quick(tmp_path: Path) -> None:
    db = tmp_path / "gen.db"
    out = run("bench.generate", "--db", str(db), "--quick", "--quiet")
    info = json.loads(out.strip().splitlines()[-1])
    assert info["messages"] == 2000 and info["big_thread_task"]
    from storage.store import Store

    store = Store.open(str(db))
    try:
        assert store.thread_count(int(store.get_state("bench.big_thread_task"))) == 500
        total = store.db.execute_sql("SELECT count(*) FROM message").fetchone()[0]
        assert total == 2000
        assert store.db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    finally:
        store.close()
    # Into an existing database: refused with a clear message, nothing changed.
    proc = subprocess.run([sys.executable, "-m", "bench.generate", "--db", str(db), "--quick",
                           "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "already holds messages" in proc.stderr


@pytest.mark.slow
def test_ingest_bench_quick() -> None:
    out = run("bench.ingest_bench", "--quick")
    assert "raw sqlite3" in out and "webhook HTTP" in out and "group commit" in out
    assert "webhook at half the peak (open loop" in out and "p99 at half the peak" in out


def test_latency_bench_quick() -> None:
    out = run("bench.latency_bench", "--quick")
    assert "p99" in out and "30 seen by the other console" in out


@pytest.mark.slow
def test_console_bench_quick() -> None:
    assert run("bench.console_bench", "--quick").strip()


@pytest.mark.slow
def test_search_bench_small(tmp_path: Path) -> None:
    """search_bench has no --quick: it generates a small database when --db is new."""
    out = run("bench.search_bench", "--db", str(tmp_path / "s.db"), "--messages", "3000",
              "--runs", "2")
    assert "| query |" in out


def test_team_bench_quick() -> None:
    out = run("bench.team_bench", "--quick")
    assert "| SQLite | 1 | 50 (50) | 50 |" in out and "| SQLite | 2 | 50 (50) | 50 |" in out


@pytest.mark.slow
def test_tmux_keys_quick() -> None:
    """The real console in tmux, tiny vs small database: j/k presses are seen repainting."""
    out = run("bench.tmux_keys", "--quick", "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["tiny"]["n"] == result["big"]["n"] == 10
    assert "big ÷ tiny" in out


@pytest.mark.slow
def test_launch_bench_quick() -> None:
    """The real console (from its launch record, and a first start without one), the
    empty app and the task list alone on the store (the bound) all reach their first
    frame in tmux."""
    out = run("bench.launch_bench", "--quick", "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["console_s"] > 0 and result["floor_s"] > 0 and "launch → first task row" in out
    assert result["first_s"] > 0 and "first start (no launch record yet" in out
    assert result["parts_s"] > 0 and "the task list alone on the store" in out


@pytest.mark.slow
def test_all_quick_one_table() -> None:
    """bench.all runs the chosen benchmarks and prints one table with the load average."""
    out = run("bench.all", "--quick", "--only", "latency", "launch", "--json")
    assert "| measure | ratio |" in out and "load average" in out
    rows = json.loads(out.strip().splitlines()[-1])
    assert [r["measure"].split(" ")[0] for r in rows] == ["launch", "webhook"]
