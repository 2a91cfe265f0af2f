"""Fixes found by using the console: cursor row drawing, scrollbar thumb, clocks, row room."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from textual import events
from textual.app import App, ComposeResult

from storage.inputs import Inbound, TaskFilter
from storage.store import Store
from tests.widgets.conftest import BASE, fill_tasks, fill_thread, screen_lines, settle
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

_TEXT_RUN = re.compile(r"<text [^>]*>([^<]*)</text>")


class ListApp(App[None]):
    CSS = "TaskList { width: 44; }"

    def __init__(self, store: Store, clock=None) -> None:
        super().__init__()
        self.store, self.clock = store, clock

    def compose(self) -> ComposeResult:
        yield TaskList(self.store, id="tasks", clock=self.clock)


class ThreadApp(App[None]):
    def __init__(self, store: Store, clock=None, tz=None) -> None:
        super().__init__()
        self.store, self.clock, self.tz = store, clock, tz

    def compose(self) -> ComposeResult:
        yield ThreadView(self.store, id="thread", clock=self.clock, tz=self.tz)


async def test_cursor_row_text_starts_at_its_glyphs(sqlite_store: Store, web: int) -> None:
    """The highlighted row was one text run starting with blanks; screenshot renderers
    drop those and drew the row shifted left. No run may start with a blank."""
    fill_tasks(sqlite_store, 3, web)
    app = ListApp(sqlite_store, clock=lambda: BASE + timedelta(hours=1))
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        tl = app.query_one(TaskList)
        assert tl.highlighted_task is not None
        for y in range(2):
            for segment in tl.render_line(y):
                assert segment.text == segment.text.lstrip(" ") or not segment.text.strip(), (
                    y, segment.text)
        svg = app.export_screenshot(simplify=True)  # as the snapshot plugin takes them
        runs = [r.replace("&#160;", " ") for r in _TEXT_RUN.findall(svg)]
        assert any("#3 hello from client 2" in r for r in runs)
        assert not [r for r in runs if r.startswith(" ") and r.strip()], runs


async def test_task_list_ages_follow_the_injected_clock(sqlite_store: Store, web: int) -> None:
    fill_tasks(sqlite_store, 2, web)  # activity at BASE and BASE + 1 minute
    now = [BASE + timedelta(minutes=31)]
    app = ListApp(sqlite_store, clock=lambda: now[0])
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        tl = app.query_one(TaskList)
        first = screen_lines(tl)[0]
        assert "Client 00001" in first and " 30m " in first
        now[0] = BASE + timedelta(days=3, minutes=1)
        tl._tick_ages()  # what the once-a-minute timer does
        await pilot.pause()
        assert " 3d " in screen_lines(tl)[0]


async def test_thread_times_use_the_chosen_zone_and_clock(sqlite_store: Store, web: int) -> None:
    at = datetime(2020, 6, 1, 23, 30, tzinfo=UTC)
    result = sqlite_store.ingest(Inbound(channel_id=web, chat_id="tz", sender_id="tz",
                                         text="late hello", external_id="tz-1", sent_at=at))
    task = sqlite_store.get_task(result.task.id)
    clock = lambda: datetime(2020, 6, 2, 1, 0, tzinfo=UTC)  # noqa: E731
    async with ThreadApp(sqlite_store, clock=clock, tz=UTC).run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(ThreadView)
        view.show_task(task)
        await settle(pilot)
        text = "\n".join(screen_lines(view))
        assert "Yesterday" in text and "23:30" in text
        # Centred separators and bubble lines start their text runs at a glyph too.
        runs = [r.replace("&#160;", " ")
                for r in _TEXT_RUN.findall(pilot.app.export_screenshot(simplify=True))]
        assert any("Yesterday" in r for r in runs) and any("late hello" in r for r in runs)
        assert not [r for r in runs if r.startswith(" ") and r.strip()], runs
    plus3 = timezone(timedelta(hours=3))
    async with ThreadApp(sqlite_store, clock=clock, tz=plus3).run_test(size=(80, 20)) as pilot:
        view = pilot.app.query_one(ThreadView)
        view.show_task(task)
        await settle(pilot)
        text = "\n".join(screen_lines(view))
        assert "Today" in text and "02:30" in text and "23:30" not in text


def _thumb_rows(view: ThreadView) -> list[int]:
    """The rows where the view draws its scroll indicator's thumb (its last cell)."""
    thumb = view.get_component_rich_style("thread-view--scroll-thumb")
    rows = []
    for y in range(view.scrollable_content_region.height):
        line = view.render_line(y)
        assert line.cell_length == view.size.width  # the content and the indicator's cell
        if list(line)[-1].style == thumb:
            rows.append(y)
    return rows


async def _open_long_thread(pilot: object, store: Store, web: int) -> ThreadView:
    ids = fill_thread(store, web, 120)
    view = pilot.app.query_one(ThreadView)  # type: ignore[attr-defined]
    view.show_task(store.get_task(store.get_message(ids[0]).task_id))
    await settle(pilot)
    return view


async def test_scroll_indicator_follows_the_thread(sqlite_store: Store, web: int) -> None:
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = await _open_long_thread(pilot, sqlite_store, web)
        height = view.scrollable_content_region.height
        assert view.scroll_y == view.max_scroll_y > 0
        assert not view.show_vertical_scrollbar  # Textual's bar is not used
        at_end = _thumb_rows(view)
        assert at_end and at_end[-1] == height - 1 and at_end == list(range(at_end[0], height))
        view.scroll_to(y=0, animate=False, immediate=True, force=True)
        await settle(pilot)  # the page before joins above, the view stays where it was
        rows = _thumb_rows(view)
        assert rows and rows[0] < at_end[0]
        await pilot.resize_terminal(90, 20)
        await settle(pilot)
        assert _thumb_rows(view)


async def test_the_wheel_and_the_indicator_column_scroll(sqlite_store: Store, web: int) -> None:
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = await _open_long_thread(pilot, sqlite_store, web)
        bottom = view.scroll_y
        view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
        await settle(pilot)
        assert view.scroll_y < bottom  # the wheel scrolls, with no Textual scrollbar
        selected = view.selected_message
        await pilot.click(view, offset=(view.size.width - 1, 0))  # the indicator's top
        await settle(pilot)
        assert view.scroll_y < bottom / 2
        assert view.selected_message == selected  # a click there is not a message pick


async def test_preview_gets_the_room_and_assignee_fits(sqlite_store: Store, web: int,
                                                       anna: int) -> None:
    long_text = "Please check my order number 12345, it has not arrived for two weeks"
    r = sqlite_store.ingest(Inbound(channel_id=web, chat_id="p", sender_id="p", text=long_text,
                                    external_id="p-1", sent_at=BASE, display_name="Pat"))
    sqlite_store.ensure_operator("Alexandrina-Konstantinopolskaya")
    op = sqlite_store.operator_by_name("Alexandrina-Konstantinopolskaya")
    sqlite_store.assign([r.task.id], op.id, anna)
    r2 = sqlite_store.ingest(Inbound(channel_id=web, chat_id="q", sender_id="q", text=long_text,
                                     external_id="q-1", sent_at=BASE, display_name="Quinn"))
    for width, min_preview in ((44, 24), (28, 10)):
        class Sized(ListApp):
            CSS = f"TaskList {{ width: {width}; }}"

        app = Sized(sqlite_store, clock=lambda: BASE)
        async with app.run_test(size=(100, 12)) as pilot:
            await settle(pilot)
            tl = app.query_one(TaskList)
            inner = tl.scrollable_content_region.width
            lines = {tl.rows[i].id: screen_lines(tl)[2 * i + 1] for i in range(2)}
            for task_id in (r.task.id, r2.task.id):
                line = lines[task_id]
                assert len(line) == inner
                preview = line[line.index("Please"):].split("…")[0]
                assert len(preview) >= min_preview, (width, line)
            assert "Alexandri…" in lines[r.task.id] or width < 40
            assert "Alexandrina-Konstantinopolskaya" not in lines[r.task.id]


async def test_no_tasks_line_only_under_an_empty_list(sqlite_store: Store, web: int) -> None:
    fill_tasks(sqlite_store, 2, web)
    app = ListApp(sqlite_store, clock=lambda: BASE)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        tl = app.query_one(TaskList)
        assert tl.exhausted and len(tl.rows) == 2
        lines = screen_lines(tl)
        assert not any("No tasks here" in line for line in lines), lines
        tl.set_filter(TaskFilter(channel_id=web + 1000))
        await settle(pilot)
        assert "No tasks here." in screen_lines(tl)[0]


async def test_narrow_thread_keeps_event_times_and_the_note_mark(sqlite_store: Store, web: int,
                                                                 anna: int) -> None:
    long_name = "a-channel-with-a-very-long-name-indeed"
    channel = sqlite_store.ensure_channel("webchat", long_name).id
    result = sqlite_store.ingest(Inbound(channel_id=channel, chat_id="n", sender_id="n",
                                         text="hi", external_id="n-1", sent_at=BASE))
    sqlite_store.note(result.task.id, anna, "internal remark")
    task = sqlite_store.get_task(result.task.id)

    class Narrow(ThreadApp):
        CSS = "ThreadView { width: 39; }"  # 38 columns for the messages

    async with Narrow(sqlite_store, tz=UTC).run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(ThreadView)
        view.show_task(task)
        await settle(pilot)
        lines = screen_lines(view)
        created = next(line for line in lines if "Task created" in line)
        assert "· 09:00 ·" in created and "…" in created
        mark = next(line for line in lines if "🔒" in line)
        assert "Not sent to client" in mark and "clien " not in mark


async def test_rows_stay_whole_at_the_top_with_an_odd_view_height(sqlite_store: Store,
                                                                  web: int) -> None:
    fill_tasks(sqlite_store, 20, web)

    class Odd(ListApp):
        CSS = "TaskList { width: 44; height: 7; }"

    app = Odd(sqlite_store, clock=lambda: BASE)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        tl = app.query_one(TaskList)
        assert tl.scrollable_content_region.height == 7
        for _ in range(6):
            await pilot.press("j")
        await pilot.pause()
        lines = screen_lines(tl)
        assert round(tl.scroll_y) % 2 == 0
        assert "Client 00013" in "".join(lines)  # the cursor row (6th from the top) is shown
        assert lines[0].lstrip().startswith("WEB"), lines  # a whole row at the top
        for _ in range(3):
            await pilot.press("k")
        await pilot.pause()
        assert round(tl.scroll_y) % 2 == 0


async def test_muted_text_is_muted_on_light_and_dark_themes(sqlite_store: Store, web: int) -> None:
    """``$text-muted`` is an "auto" colour: taken from the partial style unresolved it
    was pure white (invisible on a light theme). Ages and event lines must sit between
    the background and the foreground on both kinds of theme."""
    from textual.color import Color

    ids = fill_tasks(sqlite_store, 2, web)
    app = ListApp(sqlite_store, clock=lambda: BASE + timedelta(hours=2))
    async with app.run_test(size=(80, 12)) as pilot:
        for theme in ("textual-light", "textual-dark"):
            app.theme = theme
            await settle(pilot)
            tl = app.query_one(TaskList)
            tl.action_cursor_down()  # the age of the first row, off the cursor bar
            await pilot.pause()
            age = next(seg for seg in tl.render_line(0) if seg.text.strip() == "1h")
            bg = Color.from_rich_color(tl.rich_style.bgcolor).brightness
            fg = Color.from_rich_color(tl.rich_style.color).brightness
            muted = Color.from_rich_color(age.style.color).brightness
            assert min(bg, fg) < muted < max(bg, fg), (theme, bg, muted, fg)
    task = sqlite_store.get_task(ids[0])
    async with ThreadApp(sqlite_store, tz=UTC).run_test(size=(80, 12)) as pilot:
        pilot.app.theme = "textual-light"
        view = pilot.app.query_one(ThreadView)
        view.show_task(task)
        await settle(pilot)
        line = next(view.render_line(y) for y in range(12) if "Task created" in view.render_line(y).text)
        seg = next(s for s in line if "Task created" in s.text)
        assert Color.from_rich_color(seg.style.color).brightness < 0.9
