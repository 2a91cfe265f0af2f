"""The console benchmark's measuring step runs on a generated database and reports sane figures."""

from __future__ import annotations

from pathlib import Path

from bench.console_bench import _measure
from bench.generate import generate


def test_measure_on_a_small_generated_database(tmp_path: Path) -> None:
    db = str(tmp_path / "bench.db")
    generate(db, 5, 60, 400, 200, quiet=True)
    result = _measure(db)
    assert result["tasks"] == 60 and result["thread_messages"] >= 200
    assert result["pages_loaded"] == 1 and result["rows_loaded"] == 50  # one page, not all
    assert result["at_end"] and 0 < result["window"] < 200  # a screenful of the big thread
    assert result["shown_lines"] > 10
    assert 0 < result["tti"] < 10 and 0 < result["thread_open"] < 10
    assert result["peak_rss_mb"] > 0
