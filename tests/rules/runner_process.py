"""A runner in its own process (spawned by the tests): real process, real database."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from connectors.automation import AutomationWorker
from storage.models import utcnow
from storage.rules import parse_rules
from storage.store import Store


def count_firings(store: Store) -> int:
    from storage.rules.log import rule_models

    return int(rule_models(store).Firing.select().count())


async def _serve(url: str, rules: str, offset_minutes: float, expect: int) -> int:
    store = Store.open(url)
    worker = AutomationWorker(store, parse_rules(rules),
                              lambda: utcnow() + timedelta(minutes=offset_minutes))
    try:
        await worker.start()
        await worker.wait_for(lambda: count_firings(store) >= expect, timeout=60)
        return len(worker.fired)
    finally:
        await worker.stop()
        store.close()


def serve(url: str, rules: str, offset_minutes: float, expect: int, barrier: Any,
          results: Any) -> None:
    """Wait for the other runner, then run until ``expect`` firings exist in the database."""
    barrier.wait(timeout=60)
    results.put(asyncio.run(_serve(url, rules, offset_minutes, expect)))


def crash_mid_firing(url: str, rules: str, offset_minutes: float) -> None:
    """Run the due timers, but die (no clean-up at all) right after the rule's first
    action wrote its rows, before the firing's transaction commits."""
    import storage.rules.engine as engine

    real = engine.perform

    def perform_then_die(*args: Any, **kwargs: Any) -> str:
        real(*args, **kwargs)
        os._exit(3)

    engine.perform = perform_then_die
    store = Store.open(url)
    automation = engine.Automation(store, parse_rules(rules),
                                   lambda: utcnow() + timedelta(minutes=offset_minutes))
    automation.run_due()
    os._exit(0)  # not reached when a timer was due
