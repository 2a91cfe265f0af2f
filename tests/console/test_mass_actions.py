"""Mass actions on marked tasks (merge, assign, status) and the contact-merge dialog."""

from __future__ import annotations

from textual.widgets import Static

from console.screens.assign import AssignDialog
from console.screens.confirm import ConfirmDialog
from console.screens.merge_contacts import MergeContactsDialog
from console.screens.merge_tasks import MergeTasksDialog, resulting_channel
from console.screens.status import StatusDialog
from storage.models import DONE, IN_PROGRESS, utcnow
from tests.console.conftest import Data, press, settle, started
from widgets.task_list import TaskList


async def mark(pilot, *task_ids: int) -> None:
    tasks = pilot.app.screen.query_one(TaskList)
    for task_id in task_ids:
        tasks.select_task_id(task_id)
        await pilot.press("space")
    await settle(pilot)


async def test_merge_marked_tasks_into_chosen_target(data: Data, make_app) -> None:
    store = data.store
    ivan, lena = data.tasks["ivan"], data.tasks["lena"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await mark(pilot, lena, ivan)
        assert app.screen.marks == {lena, ivan}
        assert "2 marked" in str(app.screen.query_one("#filter-bar", Static).visual)
        await press(pilot, "m")
        dialog = app.screen
        assert isinstance(dialog, MergeTasksDialog)
        # the first row is the lower id (Ivan, tg): it keeps its own channel
        assert "keeps the target's channel: tg" in str(dialog.query_one("#merge-channel").visual)
        await pilot.press("down")  # choose Lena's task as the target instead
        assert "tg" in str(dialog.query_one("#merge-channel").visual)
        await press(pilot, "enter")
        # Ivan and Lena are different clients: the merge asks, naming both
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        question = str(confirm.query_one("#confirm-text").visual)
        assert "Ivan Petrov" in question and "Lena" in question
        await press(pilot, "down", "enter")  # "Merge them"
        assert not isinstance(app.screen, (MergeTasksDialog, ConfirmDialog))
        assert store.get_task(ivan).merged_into_id == lena
        assert store.get_task(lena).merged_into_id is None
        assert app.screen.marks == frozenset()
        texts = [m.text for m in store.thread_before(lena).items]
        assert "Hello, where is my order?" in texts


async def test_merge_needs_two_marks(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await mark(pilot, data.tasks["ivan"])
        await press(pilot, "m")
        assert not isinstance(app.screen, MergeTasksDialog)
        assert app.screen.check_action("merge_tasks", ()) is False  # hidden until 2 marks


def test_resulting_channel_prefers_target_then_source(data: Data) -> None:
    store = data.store
    now = utcnow()
    bare = store.m.Task.create(title="bare", status="new", created_at=now, last_activity_at=now)
    bare_row = store.get_task(bare.id)
    olga = store.get_task(data.tasks["olga"])
    ivan = store.get_task(data.tasks["ivan"])
    who, sentence = resulting_channel(ivan, [olga])
    assert who == ivan and "tg" in sentence
    who, sentence = resulting_channel(bare_row, [olga, ivan])
    assert who == olga and "web" in sentence and f"#{olga.number}" in sentence
    who, sentence = resulting_channel(bare_row, [])
    assert who is None
    merged = store.merge_tasks(bare.id, [olga.id, ivan.id], data.anna.id,
                               different_clients_ok=True)
    assert merged.channel_id == olga.channel_id  # the store agrees with the dialog


async def test_assign_and_status_on_marked_tasks(data: Data, make_app) -> None:
    store = data.store
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await mark(pilot, ivan, olga)
        await press(pilot, "a")
        assert isinstance(app.screen, AssignDialog)
        await pilot.press("down")  # Anna, Boris (by name)
        await press(pilot, "enter")
        assert store.get_task(ivan).assignee_id == data.boris.id
        assert store.get_task(olga).assignee_id == data.boris.id
        assert store.get_task(ivan).status == IN_PROGRESS
        # nothing marked now: the status dialog acts on the highlighted task
        app.screen.query_one(TaskList).select_task_id(ivan)
        await press(pilot, "s")
        assert isinstance(app.screen, StatusDialog)
        for _ in range(2):  # starts at "in progress": → waiting → done
            await pilot.press("down")
        await press(pilot, "enter")
        assert store.get_task(ivan).status == DONE
        assert store.get_task(olga).status == IN_PROGRESS


async def test_merge_contacts_from_search_dialog(data: Data, make_app) -> None:
    store = data.store
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "M")
        assert isinstance(app.screen, MergeContactsDialog)
        await press(pilot, *"Ivan")
        await pilot.press("enter")  # from the search field to the results
        await pilot.press("enter")  # keep Ivan
        await settle(pilot)
        await pilot.press("shift+tab")  # back to the search field
        await pilot.press("ctrl+a", "ctrl+k")  # clear it
        await press(pilot, *"lena")
        await pilot.press("enter", "enter")  # merge Lena into Ivan
        await settle(pilot)
        choice = str(app.screen.query_one("#contact-choice").visual)
        assert "Keep: Ivan Petrov" in choice and "Merge into it: Lena" in choice
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, MergeContactsDialog)
    assert store.get_contact(data.contacts["lena"]).merged_into_id == data.contacts["ivan"]
    card = store.contact_card(data.contacts["ivan"])
    assert {t.id for t in card.tasks} == {data.tasks["ivan"], data.tasks["lena"]}


async def test_merge_contacts_refuses_the_same_contact_twice(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "M")
        await press(pilot, *"Ivan")
        await pilot.press("enter", "enter", "enter")  # pick Ivan, then Ivan again
        await settle(pilot)
        assert "another one" in str(app.screen.query_one("#contact-error").visual)
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, MergeContactsDialog)  # nothing to confirm yet
    assert data.store.get_contact(data.contacts["ivan"]).merged_into_id is None


