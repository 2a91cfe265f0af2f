"""Keys per task when triaging: drive the console with Pilot and count the key presses.

    python -m bench.keys_bench              # 20 tasks, prints the table and the ratio
    python -m bench.keys_bench --tasks 50 --json

A fresh SQLite store gets ``--tasks`` clients who each wrote once, and one quick reply
(tag ``hello``). The operator triages every task keyboard-only at 80×24, as issue 19
counts it: the quick-reply word's letters are not counted, every other key is.

* ``f2`` on the empty composer opens the first task waiting for an answer (once);
* per task: ``*`` (quick replies), the word, ``enter`` (insert it), ``ctrl+s`` (send),
  ``ctrl+r`` (done, and open the next task waiting for an answer).

The run checks what happened, so a key that silently did nothing fails it: every
task got exactly the quick reply and is done. The ratio printed is keys per task
against the target of 6 (≤ 1.0 meets it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET = 6
WORD = "greet"
SIZE = (80, 24)


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _until(pilot: Any, condition: Any, limit: int = 2000) -> None:
    for _ in range(limit):
        if condition():
            return
        await _settle(pilot)
    raise RuntimeError("the console did not get there")


async def triage(tasks: int, db: Path) -> dict[str, Any]:
    from connectors.registry import policies
    from console.app import SwitchboardApp
    from console.config import Config, OperatorConfig
    from storage.constants import DONE
    from storage.inputs import Inbound
    from storage.store import Store

    store = Store.open(str(db), policies=policies())
    web = store.ensure_channel("webchat", "web").id
    anna = store.ensure_operator("Anna", "operator")
    t0 = datetime(2020, 6, 1, 9, 0, tzinfo=UTC)
    ids = []
    for n in range(tasks):
        result = store.ingest(Inbound(
            channel_id=web, chat_id=f"c{n}", sender_id=f"c{n}", text=f"Question {n}?",
            external_id=f"m{n}", sent_at=t0 + timedelta(minutes=n), display_name=f"Client {n}"))
        ids.append(result.task.id)
    store.add_quick_reply("Greeting", "Hello {{contact.name}}, this is {{operator.name}}.",
                          tags=("hello",))
    config = Config(operator=OperatorConfig("Anna", "operator"))
    app = SwitchboardApp(store, config, anna, clock=lambda: t0 + timedelta(days=1))
    counted = 0
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)

            async def key(*names: str) -> None:
                nonlocal counted
                counted += len(names)
                await pilot.press(*names)
                await _settle(pilot)

            await key("f2")
            for _ in range(tasks):
                screen = app.screen
                await _until(pilot, lambda s=screen: getattr(s, "current", None) is not None)
                await key("asterisk")
                await pilot.press(*WORD)  # the word: not counted
                await _settle(pilot)
                await key("enter")
                await key("ctrl+s")
                task_id = screen.current.id
                await _until(pilot, lambda t=task_id: store.thread_before(t).items[-1].kind
                             == "outbound")
                await key("ctrl+r")
                await _until(pilot, lambda t=task_id: store.get_task(t).status == DONE)
    finally:
        done = [store.get_task(t) for t in ids]
        replies = [sum(1 for m in store.thread_before(t).items if m.kind == "outbound")
                   for t in ids]
        store.close()
    ok = all(t.status == DONE for t in done) and all(r == 1 for r in replies)
    per_task = counted / tasks
    return {"tasks": tasks, "keys": counted, "keys_per_task": round(per_task, 2),
            "target": TARGET, "ratio": round(per_task / TARGET, 2), "all_done": ok,
            "word": WORD}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(triage(args.tasks, Path(tmp) / "keys.db"))
    if args.json:
        print(json.dumps(result))
        return
    print(f"tasks triaged        {result['tasks']}")
    print(f"keys (word excluded) {result['keys']}")
    print(f"keys per task        {result['keys_per_task']}  (target ≤ {TARGET} + the word)")
    print(f"ratio to target      {result['ratio']}")
    print(f"every task answered and done: {result['all_done']}")
    if not result["all_done"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
