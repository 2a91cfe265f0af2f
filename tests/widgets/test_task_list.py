"""TaskList over a real SQLite store: paging, live re-sorting, filters, marks, safety."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from storage.inputs import Inbound, TaskFilter
from storage.store import Store
from tests.widgets.conftest import BASE, fill_tasks, screen_lines, settle
from widgets.task_list import ROW_HEIGHT, TaskList, age_label


class ListApp(App[None]):
    def __init__(self, store: Store, filter: TaskFilter | None = None, page_size: int = 50) -> None:
        super().__init__()
        self.store = store
        self.filter = filter
        self.page_size = page_size
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        # As the console does: each kind's tag as its plug-in's policy declares it.
        tags = {kind: self.store.policy(kind).short_tag for kind in self.store.policies.kinds()}
        yield TaskList(self.store, self.filter, id="tasks", page_size=self.page_size,
                       channel_tags=tags)

    def on_task_list_highlighted(self, message: TaskList.Highlighted) -> None:
        self.seen.append(message)

    def on_task_list_selected(self, message: TaskList.Selected) -> None:
        self.seen.append(message)

    def on_task_list_marks_changed(self, message: TaskList.MarksChanged) -> None:
        self.seen.append(message)


@asynccontextmanager
async def running(app: ListApp) -> AsyncIterator[tuple[Pilot[None], TaskList]]:
    """``app`` running at 80x24 with its first page loaded, and its task list."""
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        yield pilot, app.query_one(TaskList)


def _new_message(store: Store, channel_id: int, index: int, at_minutes: int, text: str) -> int:
    result = store.ingest(Inbound(channel_id=channel_id, chat_id=f"chat-{index}",
                                  sender_id=f"chat-{index}", text=text,
                                  external_id=f"late-{index}-{at_minutes}",
                                  sent_at=BASE + timedelta(minutes=at_minutes)))
    return result.task.id


async def test_opens_with_one_page_and_pages_as_cursor_moves(sqlite_store: Store, web: int) -> None:
    ids = fill_tasks(sqlite_store, 130, web)
    app = ListApp(sqlite_store)
    async with running(app) as (pilot, tl):
        assert tl.pages_loaded == 1
        assert [r.id for r in tl.rows] == ids[::-1][:50]  # newest activity first, one page only
        assert tl.highlighted_task is not None and tl.highlighted_task.id == ids[-1]
        lines = screen_lines(tl)
        assert "Client 00129" in lines[0] and "hello from client 129" in lines[1]
        await pilot.press("j", "j", "k")
        assert tl.highlighted_task.id == ids[-2]
        await pilot.press("pagedown", "pagedown", "pagedown")  # 12 rows a page at 24 lines
        await settle(pilot)
        assert tl.pages_loaded == 1  # row 37 of 50: not near the end yet
        await pilot.press("pagedown")
        await settle(pilot)
        assert len(tl.rows) == 100 and tl.pages_loaded == 2
        assert tl.highlighted_task.id == ids[::-1][49]
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert len(tl.rows) == 130 and tl.exhausted
        assert [r.id for r in tl.rows] == ids[::-1]  # no duplicates, no gaps across pages
        await pilot.press("home")
        assert tl.highlighted_task.id == ids[-1] and tl.scroll_y == 0


async def test_scrolling_the_view_loads_more(sqlite_store: Store, web: int) -> None:
    fill_tasks(sqlite_store, 80, web)
    app = ListApp(sqlite_store, page_size=30)
    async with running(app) as (pilot, tl):
        assert len(tl.rows) == 30
        tl.scroll_to(y=tl.max_scroll_y, animate=False, force=True)
        await settle(pilot)
        assert len(tl.rows) == 60


async def test_new_message_moves_task_to_top_keeping_selection(sqlite_store: Store, web: int) -> None:
    ids = fill_tasks(sqlite_store, 60, web)
    app = ListApp(sqlite_store)
    async with running(app) as (pilot, tl):
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        highlighted = tl.highlighted_task
        assert highlighted is not None
        screen_row_before = tl.rows.index(highlighted) * ROW_HEIGHT - round(tl.scroll_y)
        assert tl.scroll_y > 0
        # Task 30 (below the highlighted one, index 29 on screen) gets a new client message.
        moved = _new_message(sqlite_store, web, 30, 10_000, "brand new question")
        assert moved == ids[30]
        tl.task_changed(moved)
        await settle(pilot)
        assert tl.rows[0].id == moved and tl.rows[0].last_preview == "brand new question"
        assert [r.id for r in tl.rows].count(moved) == 1
        assert tl.highlighted_task.id == highlighted.id  # selection kept
        screen_row_after = tl.rows.index(tl.highlighted_task) * ROW_HEIGHT - round(tl.scroll_y)
        assert screen_row_after == screen_row_before  # and its place on screen


async def test_new_task_at_top_is_seen_when_operator_is_at_top(sqlite_store: Store, web: int) -> None:
    ids = fill_tasks(sqlite_store, 10, web)
    app = ListApp(sqlite_store)
    async with running(app) as (pilot, tl):
        await pilot.press("j")
        moved = _new_message(sqlite_store, web, 2, 10_000, "again")
        tl.task_changed(moved)
        new = _new_message(sqlite_store, web, 99, 10_001, "first time here")
        tl.task_changed(new)
        await settle(pilot)
        assert [r.id for r in tl.rows][:2] == [new, moved]
        assert tl.highlighted_task.id == ids[-2]
        assert tl.scroll_y == 0
        assert "first time here" in screen_lines(tl)[1]


async def test_filters_by_channel_assignee_and_status(sqlite_store: Store, web: int, anna: int) -> None:
    tg = sqlite_store.ensure_channel("telegram", "tg").id
    web_ids = fill_tasks(sqlite_store, 5, web)
    tg_ids = fill_tasks(sqlite_store, 4, tg, start=BASE + timedelta(hours=5))
    sqlite_store.assign([web_ids[0], tg_ids[1]], anna)
    sqlite_store.set_status([web_ids[2]], "completed")
    app = ListApp(sqlite_store)
    async with running(app) as (pilot, tl):
        assert len(tl.rows) == 9
        tl.set_filter(TaskFilter(channel_id=tg))
        await settle(pilot)
        assert sorted(r.id for r in tl.rows) == sorted(tg_ids)
        assert all("TG" in line for line in screen_lines(tl)[0:8:2])
        tl.set_filter(TaskFilter(assignee_id=anna))
        await settle(pilot)
        assert sorted(r.id for r in tl.rows) == sorted([web_ids[0], tg_ids[1]])
        assert "Anna" in screen_lines(tl)[1]
        tl.set_filter(TaskFilter(unassigned=True, active_only=True))
        await settle(pilot)
        assert web_ids[2] not in {r.id for r in tl.rows} and len(tl.rows) == 6
        # Live: a task assigned to Anna leaves the "unassigned" list.
        sqlite_store.assign([tg_ids[0]], anna)
        tl.task_changed(tg_ids[0])
        await settle(pilot)
        assert tg_ids[0] not in {r.id for r in tl.rows} and len(tl.rows) == 5
        tl.set_filter(TaskFilter(channel_id=9999))
        await settle(pilot)
        assert tl.rows == () and "No tasks here." in screen_lines(tl)[0]


async def test_marks_open_and_messages(sqlite_store: Store, web: int) -> None:
    ids = fill_tasks(sqlite_store, 5, web)
    app = ListApp(sqlite_store)
    async with running(app) as (pilot, tl):
        await pilot.press("space", "j", "j", "space")
        await pilot.pause()
        assert tl.marked_ids == {ids[4], ids[2]}
        marks = [m for m in app.seen if isinstance(m, TaskList.MarksChanged)]
        assert marks[-1].ids == frozenset({ids[4], ids[2]})
        lines = screen_lines(tl)
        assert lines[0].startswith("●") and lines[4].startswith("●") and not lines[2].startswith("●")
        await pilot.press("space")
        assert tl.marked_ids == {ids[4]}
        await pilot.press("enter")
        await pilot.pause()
        selected = [m for m in app.seen if isinstance(m, TaskList.Selected)]
        assert selected[-1].task.id == ids[2]
        highlighted = [m.task.id for m in app.seen if isinstance(m, TaskList.Highlighted)]
        assert highlighted[:3] == [ids[4], ids[3], ids[2]]
        assert tl.select_task_id(ids[0]) and tl.highlighted_task.id == ids[0]
        tl.marked_ids = set()
        assert tl.marked_ids == set()


async def test_client_text_in_rows_is_literal(sqlite_store: Store, web: int) -> None:
    sqlite_store.ingest(Inbound(channel_id=web, chat_id="evil", sender_id="evil",
                                text="[bold red]pay now[/] \x1b[2J\x1b]0;owned\x07 \u202etxt.exe",
                                display_name="[blink]Мария[/blink]\x1b[31m", external_id="e1"))
    async with running(ListApp(sqlite_store)) as (_pilot, tl):
        lines = screen_lines(tl)
        assert "[blink]Мария[/blink]␛[31m" in lines[0]
        assert "[bold red]pay now[/] ␛[2J␛]0;owned␇ ‹U+202E›txt.exe" in lines[1]
        assert not any("\x1b" in line or "\u202e" in line for line in lines)


def test_age_labels() -> None:
    assert age_label(BASE, BASE + timedelta(seconds=30)) == "now"
    assert age_label(BASE, BASE + timedelta(minutes=5)) == "5m"
    assert age_label(BASE, BASE + timedelta(hours=3, minutes=59)) == "3h"
    assert age_label(BASE, BASE + timedelta(days=2)) == "2d"


async def test_narrow_pane_rows_fit_and_theme_applies(sqlite_store: Store, web: int, anna: int) -> None:
    ids = fill_tasks(sqlite_store, 3, web)
    sqlite_store.assign([ids[2]], anna)

    class Narrow(ListApp):
        CSS = "TaskList { width: 32; }"

    app = Narrow(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "textual-dark"
        await settle(pilot)
        tl = app.query_one(TaskList)
        width = tl.scrollable_content_region.width
        lines = screen_lines(tl)
        assert all(tl.render_line(y).cell_length == width for y in range(6))
        assert "Client 00002" in lines[0] and lines[0].rstrip().endswith("1")  # unread badge
        assert lines[1].rstrip().endswith("Anna")
        dark = tl.render_line(2)
        app.theme = "textual-light"
        await pilot.pause()
        light = tl.render_line(2)
        assert dark.text == light.text
        assert [s.style.bgcolor for s in dark] != [s.style.bgcolor for s in light]


async def test_channel_tags_are_handed_down_with_a_neutral_fallback(sqlite_store: Store) -> None:
    web = sqlite_store.ensure_channel("webchat", "web").id
    pigeon = sqlite_store.ensure_channel("pigeon", "loft").id  # no policy, not in the mapping
    fill_tasks(sqlite_store, 1, web)
    fill_tasks(sqlite_store, 1, pigeon, start=BASE + timedelta(hours=1))

    class Tagged(ListApp):
        def compose(self) -> ComposeResult:
            yield TaskList(self.store, id="tasks", channel_tags={"webchat": "W>"})

    async with running(Tagged(sqlite_store)) as (pilot, tl):
        lines = screen_lines(tl)
        assert lines[0].startswith("  PIG Client") and lines[2].startswith("  W>  Client")
        tl.channel_tags = {"webchat": "WWWW", "pigeon": "🐦"}  # three cells, cut or padded
        await pilot.pause()
        lines = screen_lines(tl)
        assert lines[0].startswith("  🐦  Client") and lines[2].startswith("  WWW Client")


async def test_a_key_press_repaints_only_the_two_rows_it_changes(sqlite_store: Store,
                                                                 web: int) -> None:
    """j/k cost the same whatever the number of rows on screen: the row left and the row
    reached are drawn again, the others stay as painted; a move that scrolls repaints."""
    ids = fill_tasks(sqlite_store, 40, web)
    drawn: list[int] = []

    class Counting(TaskList):
        def render_line(self, y: int):
            drawn.append(y)
            return super().render_line(y)

    class CountingApp(ListApp):
        def compose(self) -> ComposeResult:
            yield Counting(self.store, id="tasks")

    async with running(CountingApp(sqlite_store)) as (pilot, tl):
        height = tl.scrollable_content_region.height
        assert len(tl.rows) == 40 and height >= 10 * ROW_HEIGHT
        for key, rows in (("j", {0, 1}), ("j", {1, 2}), ("k", {2, 1})):
            drawn.clear()
            await pilot.press(key)
            await settle(pilot)
            assert sorted(drawn) == sorted(y for r in rows for y in (r * ROW_HEIGHT,
                                                                       r * ROW_HEIGHT + 1))
        assert tl.highlighted_task.id == ids[-2]
        assert [m.task.id for m in app_seen(tl)][-3:] == [ids[-2], ids[-3], ids[-2]]
        drawn.clear()
        await pilot.press("pagedown", "pagedown")  # the view scrolls: every line again
        await settle(pilot)
        assert set(range(height)) <= set(drawn)
        drawn.clear()
        await pilot.press("space")  # a mark: its row only
        await settle(pilot)
        row = tl.rows.index(tl.highlighted_task) * ROW_HEIGHT - round(tl.scroll_y)
        assert sorted(drawn) == [row, row + 1]


def app_seen(tl: TaskList) -> list[TaskList.Highlighted]:
    return [m for m in tl.app.seen if isinstance(m, TaskList.Highlighted)]  # type: ignore[attr-defined]
