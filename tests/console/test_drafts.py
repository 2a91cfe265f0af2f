"""Each task keeps the operator's unsent text: per task, marked in the list, stored."""

from __future__ import annotations

from tests.console.conftest import Data, press, settle, started
from widgets.composer import Composer
from widgets.task_list import TaskList


async def open_task(pilot, task_id: int) -> Composer:
    tasks = pilot.app.screen.query_one(TaskList)
    tasks.focus()
    tasks.select_task_id(task_id)
    await settle(pilot)
    await press(pilot, "enter")
    return pilot.app.screen.query_one(Composer)


async def test_drafts_stay_with_their_task_and_survive_a_restart(data: Data, make_app) -> None:
    store = data.store
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, olga)
        assert str(composer.border_title) == "Reply to Ольга Смирнова · Web chat"
        await press(pilot, *"Оплата прошла?")
        composer = await open_task(pilot, ivan)
        assert composer.text == "" and composer.task_id == ivan
        assert "Ivan Petrov · Telegram" in str(composer.border_title)
        tasks = app.screen.query_one(TaskList)
        assert olga in tasks.drafts and ivan not in tasks.drafts
        await press(pilot, "ctrl+n", *"check the refund")  # a note draft for Ivan
        composer = await open_task(pilot, olga)
        assert composer.text == "Оплата прошла?" and not composer.private
        composer = await open_task(pilot, ivan)
        assert composer.text == "check the refund" and composer.private
    # a new run of the console (same database) finds both, marked, each in its mode
    again = make_app(data.anna)
    async with started(again) as pilot:
        tasks = again.screen.query_one(TaskList)
        assert tasks.drafts == {ivan, olga}
        assert "✎" in "".join(s.text for s in tasks.render_line(
            2 * [t.id for t in tasks.rows].index(olga) + 1))
        composer = await open_task(pilot, olga)
        assert composer.text == "Оплата прошла?" and not composer.private
    assert store.drafts.get(ivan, data.anna.id).private


async def test_note_mode_does_not_follow_into_the_next_task(data: Data, make_app) -> None:
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, "ctrl+n")
        assert composer.private
        composer = await open_task(pilot, olga)
        assert not composer.private
        assert "Reply to Ольга Смирнова" in str(composer.border_title)


async def test_sending_clears_the_draft_and_its_mark(data: Data, make_app) -> None:
    store = data.store
    mark = data.tasks["mark"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, mark)
        await press(pilot, *"Yes, send me the new address")
        tasks = app.screen.query_one(TaskList)
        assert mark in tasks.drafts
        await press(pilot, "ctrl+s")
        assert composer.text == ""
        assert mark not in tasks.drafts
        last = store.thread_before(mark).items[-1]
        assert last.text == "Yes, send me the new address"
    assert store.drafts.get(mark, data.anna.id) is None


async def test_text_typed_just_before_quitting_is_kept(data: Data, make_app) -> None:
    lena = data.tasks["lena"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, lena)
        await press(pilot, *"typed, then quit")
    assert data.store.drafts.get(lena, data.anna.id).text == "typed, then quit"
