"""The tests' wait for workers: a replaced worker is finished, a failed one raises."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.worker import WorkerFailed

from tests.workers import workers_done


async def test_a_worker_replaced_in_its_exclusive_group_counts_as_finished() -> None:
    app = App()
    async with app.run_test():
        release = asyncio.Event()

        async def search(word: str) -> str:
            await release.wait()
            return word

        first = app.run_worker(search(""), group="search", exclusive=True)
        await asyncio.sleep(0)  # the first one started
        second = app.run_worker(search("greet"), group="search", exclusive=True)
        release.set()
        await workers_done(app)
        assert first.is_cancelled
        assert second.result == "greet"


async def test_a_failed_worker_still_raises() -> None:
    app = App()
    async with app.run_test():
        async def broken() -> None:
            raise ValueError("boom")

        app.run_worker(broken(), exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await workers_done(app)
