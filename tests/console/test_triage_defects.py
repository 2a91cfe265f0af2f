"""Issue 19's smaller defects: the open task's unread badge, Cyrillic contact search in
"Merge contacts", j/k in dialogs, a private note as the list preview, the list after a
contact merge, help's key names."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style

from console.screens.help import keys_shown
from console.screens.merge_contacts import MergeContactsDialog
from console.screens.status import StatusDialog
from tests.console.conftest import Data, inbound, press, settle, started
from tests.console.test_keystrokes import until
from widgets.task_list import TaskList
from widgets.task_list_render import first_line, second_line


def plain(_name: str) -> Style:
    return Style()


def test_the_open_task_shows_no_unread_badge(data: Data) -> None:
    data.store.ingest(inbound(data.tg, "ivan", "Anyone?", 40, "Ivan Petrov"))
    row = data.store.get_task(data.tasks["ivan"])
    now = datetime(2020, 6, 2, tzinfo=UTC)
    assert row.unread_count and f" {row.unread_count} " in first_line(row, 40, plain, False, now).plain
    assert f" {row.unread_count} " not in first_line(row, 40, plain, False, now,
                                                      open_here=True).plain


def test_a_private_note_preview_carries_the_lock(data: Data) -> None:
    data.store.note(data.tasks["mark"], data.anna.id, "internal: refund approved")
    row = data.store.get_task(data.tasks["mark"])
    assert "🔒internal" in second_line(row, 60, plain).plain


def test_contact_search_folds_cyrillic_case(data: Data) -> None:
    data.store.ingest(inbound(data.web, "serg", "Привет", 50, "Сергей Иванов"))
    names = [c.name for c in data.store.find_contacts("серг")]
    assert "Сергей Иванов" in names
    assert [c.name for c in data.store.find_contacts("ОЛЬГА")] == ["Ольга Смирнова"]


def test_help_names_keys_as_people_type_them() -> None:
    assert keys_shown("slash,ctrl+f") == "/ or ctrl+f"
    assert keys_shown("k,up") == "k or up"


async def test_j_and_k_move_in_a_dialog(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "s")
        assert isinstance(app.screen, StatusDialog)
        options = app.screen.focused
        start = options.highlighted
        await press(pilot, "j")
        assert options.highlighted == start + 1
        await press(pilot, "k")
        assert options.highlighted == start


async def test_the_list_reloads_after_a_contact_merge(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        before = tasks.pages_loaded
        data.store.merge_contacts(data.contacts["ivan"], data.contacts["lena"], data.anna.id)
        await until(pilot, lambda: tasks.pages_loaded > before)
        await settle(pilot)
        lena = next(r for r in tasks.rows if r.id == data.tasks["lena"])
        assert lena.contact_name == "Ivan Petrov"


async def test_merge_contacts_dialog_finds_cyrillic_any_case(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "M")
        assert isinstance(app.screen, MergeContactsDialog)
        await pilot.press(*"ольга")
        await until(pilot, lambda: bool(app.screen.found))
        assert [c.name for c in app.screen.found] == ["Ольга Смирнова"]
