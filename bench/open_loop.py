"""An open-loop load: webhooks sent at a constant arrival rate, latency from the schedule.

A closed loop (N connections, each sending its next request when the previous one is
answered) slows down with the server, so a stall delays the requests that would have
queued behind it and they never count as slow: *coordinated omission*. Here request
``k`` is due at ``t0 + k / rate`` whatever happened before; it is sent then (or as
soon as the client gets the CPU), on a pooled keep-alive connection if one is free,
and its latency runs **from its due time** to its answer. Time spent waiting for the
client's own loop or for a free connection therefore counts as latency, as it would
for a webhook sender with a queue.

The issue's latency target is "p99 at half the peak rate": :func:`load_open` is run
at 50 % of the rate the closed loop measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) of already sorted values, nearest-rank; None if empty."""
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, max(0, int(len(sorted_values) * q + 0.999999) - 1))
    return sorted_values[rank]


async def load_open(url: str, headers: dict[str, str], body: Callable[[int], bytes],
                    rate: float, seconds: float, first_id: int,
                    connections: int = 256) -> dict[str, Any]:
    """POST ``body(first_id + k)`` at ``t0 + k / rate`` for ``seconds``; latencies in ms
    from each request's due time. Only 2xx answers count as delivered."""
    import aiohttp

    lat: list[float] = []
    failed = 0
    total = max(1, int(rate * seconds))
    tasks: set[asyncio.Task[None]] = set()

    async def send(session: aiohttp.ClientSession, k: int, due: float) -> None:
        nonlocal failed
        try:
            async with session.post(url, data=body(first_id + k), headers=headers) as resp:
                await resp.read()
                ok = 200 <= resp.status < 300
        except aiohttp.ClientError:
            ok = False
        if ok:
            lat.append((time.perf_counter() - due) * 1000)
        else:
            failed += 1

    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter() + 0.05
        late = 0.0  # how far behind schedule the sender itself fell, at worst
        for k in range(total):
            due = t0 + k / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late = max(late, -wait)
            task = asyncio.create_task(send(session, k, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    lat.sort()
    return {"target_rate": rate, "sent": total, "ok": len(lat), "failed": failed,
            "rate": len(lat) / elapsed if elapsed > 0 else 0.0,
            "p50_ms": percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99),
            "max_ms": lat[-1] if lat else None, "sender_late_ms": late * 1000}
