"""The key-count benchmark drives the console and every task ends answered and done."""

from __future__ import annotations

from pathlib import Path

from bench.keys_bench import TARGET, triage


async def test_triage_counts_keys_and_meets_the_target(tmp_path: Path) -> None:
    result = await triage(3, tmp_path / "keys.db")
    assert result["all_done"]
    assert result["keys"] == 1 + 3 * 4  # f2 once, then * enter ctrl+s ctrl+r per task
    assert result["keys_per_task"] <= TARGET
