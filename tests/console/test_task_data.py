"""The additional description data, quoted above the conversation (read-only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.models import COMPLETED, to_micros
from storage.store import Store
from tests.console.conftest import T0, Data, fill, inbound, settle
from tests.console.fixtures.scenes import pin_times
from tests.workers import workers_done
from widgets.task_data import TaskDataQuote
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


def follow_up(store: Store) -> tuple[Data, int, int]:
    """Olga's web-chat task completed after a reply; she writes again from a page with
    UTM tags and data of her own (which tries to pass for the system's)."""
    data = fill(store)
    first = data.tasks["olga"]
    reply = store.reply(first, data.anna.id, "Попробуйте другую карту, пожалуйста.")
    M = store.m.Message  # a fixed time: the carried-over lines show it
    M.update(created_at=to_micros(T0 + timedelta(minutes=20))).where(M.id == reply.id).execute()
    store.set_status([first], COMPLETED, data.anna.id)
    again = store.ingest(inbound(
        data.web, "olga", "Снова не работает оплата", 40, "Ольга Смирнова",
        system_data={"page": "https://shop.example/checkout", "utm_source": "newsletter"},
        client_data={"order": "A-17", "channel": "telegram"}))
    return data, first, again.task.id


async def opened(pilot: Any, task_id: int) -> None:
    await settle(pilot)
    pilot.app.screen.query_one(TaskList).select_task_id(task_id)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_quote_shows_labelled_data_client_data_and_previous_task(
        sqlite_store: Store, make_app) -> None:
    data, first, task = follow_up(sqlite_store)
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot, task)
        quote = app.screen.query_one(TaskDataQuote)
        assert quote.display and not quote.can_focus
        text = str(quote.visual)
        assert "Page: https://shop.example/checkout" in text
        assert "UTM source: newsletter" in text
        assert "telegram" not in text.split("From the client")[0]  # not the system's
        assert "From the client (not checked): channel: telegram · order: A-17" in text
        number = sqlite_store.get_task(first).number
        assert f"Follows task #{number}" in text
        assert "Попробуйте другую карту, пожалуйста." in text  # carried over
        assert app.screen.query_one(ThreadView).current_task.id == task


async def test_quote_is_hidden_for_a_task_without_data(sqlite_store: Store, make_app) -> None:
    data = fill(sqlite_store)
    bare = sqlite_store.m.Task.create(title="bare", status="new",
                                      created_at=sqlite_store.get_task(1).created_at,
                                      last_activity_at=sqlite_store.get_task(1).created_at)
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot, bare.id)
        assert not app.screen.query_one(TaskDataQuote).display


def test_snapshot_follow_up_task_80x24(snap_compare, sqlite_store: Store, make_app) -> None:
    data, _first, task = follow_up(sqlite_store)
    pin_times(sqlite_store)

    async def run(pilot: Any) -> None:
        await opened(pilot, task)
        for widget in pilot.app.screen.query("Composer"):
            widget.cursor_blink = False
            widget.notify_style_update()  # its line cache ignores the focus with blink off
        pilot.app.clear_notifications()
        await settle(pilot)
        await workers_done(pilot.app)
        await pilot.pause()

    assert snap_compare(make_app(data.anna), terminal_size=(80, 24), run_before=run)
