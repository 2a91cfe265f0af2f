"""Scheduled send: the time a person types, the dialog, the list with cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console.screens.scheduled_list import ScheduledListDialog
from console.time_input import TimeInputError, parse_when
from storage.constants import OUTBOUND
from tests.console.conftest import Data, press, settle, started
from tests.console.test_drafts import open_task
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

MSK = timezone(timedelta(hours=3))
NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 17:30 in MSK


def thread_text(app) -> str:
    thread = app.screen.query_one(ThreadView)
    return "\n".join(s.text for s in (thread.render_line(y) for y in range(thread.size.height)))


@pytest.mark.parametrize("text, expected", [
    ("09:00", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),  # passed today → tomorrow
    ("18:15", datetime(2026, 12, 1, 15, 15, tzinfo=UTC)),  # still ahead today
    ("tomorrow 09:00", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),
    ("Завтра 9.00", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),
    ("2026-12-02 09:00", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),
    ("+2h", NOW + timedelta(hours=2)),
    ("+1h30m", NOW + timedelta(minutes=90)),
    ("+1d", NOW + timedelta(days=1)),
])
def test_times_are_read_in_the_apps_zone(text: str, expected: datetime) -> None:
    assert parse_when(text, MSK, NOW) == expected


@pytest.mark.parametrize("text", ["", "soon", "25:00", "+", "+0m", "2026-11-30 09:00",
                                  "today 10:00", "next week 9:00"])
def test_wrong_or_past_times_are_refused(text: str) -> None:
    with pytest.raises(TimeInputError):
        parse_when(text, MSK, NOW)


async def test_send_at_schedules_the_reply_and_the_list_cancels_it(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, *"See you tomorrow", "ctrl+l")
        await press(pilot, *"bogus", "enter")  # explained, the dialog stays
        assert "09:00" in str(app.screen.query_one("#when-error").render())
        await press(pilot, *["backspace"] * 5, *"+2h", "enter")
        scheduled = store.scheduled_replies(ivan)
        assert [m.text for m in scheduled] == ["See you tomorrow"]
        at = scheduled[0].scheduled_at
        assert at is not None
        assert timedelta(hours=1, minutes=59) < at - datetime.now(UTC) <= timedelta(hours=2)
        assert composer.text == ""
        await settle(pilot)
        mark = "scheduled " + at.strftime("%d.%m %H:%M")  # the app's zone is UTC here
        assert mark in thread_text(app)
        app.screen.query_one(TaskList).focus()
        await press(pilot, "L")
        dialog = app.screen
        assert isinstance(dialog, ScheduledListDialog)
        assert "See you tomorrow" in str(dialog.query_one("#scheduled-list").render_line(0))
        await press(pilot, "c")
        assert store.scheduled_replies() == []
        cancelled = [m for m in store.thread_before(ivan).items if m.kind == OUTBOUND][-1]
        assert cancelled.cancelled
        await press(pilot, "escape")
        await settle(pilot)
        assert not isinstance(app.screen, ScheduledListDialog)


async def test_a_note_is_never_scheduled(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, ivan)
        await press(pilot, "ctrl+n", *"internal", "ctrl+l")
        assert store.scheduled_replies(ivan) == []
        assert app.screen.query_one("#composer").text == "internal"
