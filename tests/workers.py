"""Waiting for an app's workers in tests."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.worker import WorkerCancelled


async def workers_done(app: Any) -> None:
    """Until every worker ``app`` runs now has finished.

    A worker cancelled because a newer one of its exclusive group replaced it (a search
    typed on, a task opened over another) has finished too; Textual's
    ``wait_for_complete`` raises for it, which made a test fail by how fast keys arrived.
    A worker that failed still raises here.
    """
    workers = list(app.workers)
    results = await asyncio.gather(*(worker.wait() for worker in workers),
                                   return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, WorkerCancelled):
            raise result
