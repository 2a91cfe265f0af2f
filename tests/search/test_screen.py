"""Pilot tests of the search screen: type, move, open, go back; a snapshot at 80×24."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from console.screens.search import SearchScreen
from storage.inputs import Inbound
from storage.models import INBOUND, to_micros
from storage.rows import OperatorRow
from storage.search import SearchHit
from storage.store import Store
from tests.workers import workers_done
from widgets.search_results import SearchResultsList

T0 = datetime(2020, 6, 1, 9, 0, tzinfo=UTC)


def fill(store: Store) -> dict[str, int]:
    tg = store.ensure_channel("telegram", "tg").id
    web = store.ensure_channel("webchat", "web").id
    anna = store.ensure_operator("Anna")
    ids: dict[str, int] = {"anna": anna.id}
    rows = [
        (tg, "ivan", "Ivan Petrov", "Hello, I need the invoice 4471 for my order"),
        (tg, "ivan", "Ivan Petrov", "Also a refund for order 17, please"),
        (web, "olga", "Ольга", "Где мой СЧЁТ? Нужен возврат"),
        (web, "mark", "Mark", "[bold red]refund[/] now \x1b[31mRED\x1b[0m \u202eevil"),
    ]
    for n, (channel, chat, name, text) in enumerate(rows):
        res = store.ingest(Inbound(channel_id=channel, chat_id=chat, sender_id=chat, text=text,
                                   external_id=f"e{n}", sent_at=T0 + timedelta(minutes=n),
                                   display_name=name))
        ids[f"{chat}_task"] = res.task.id
        ids[f"m{n}"] = res.message.id
    note = store.note(ids["ivan_task"], anna.id, "Refund approved by finance")
    ids["note"] = note.id
    M = store.m.Message  # a fixed time, so the snapshot does not change with the clock
    M.update(created_at=to_micros(T0 + timedelta(minutes=9))).where(M.id == note.id).execute()
    return ids


class Harness(App[None]):
    """A stand-in for the console: a field with focus, and a key that opens search."""

    BINDINGS = [("ctrl+f", "search", "Search")]

    def __init__(self, store: Store, operator: OperatorRow, restrict: bool = False) -> None:
        super().__init__()
        self.store, self.operator, self.restrict = store, operator, restrict
        self.results: list[SearchHit | None] = []

    def compose(self) -> ComposeResult:
        yield Static("inbox", id="where")
        yield Input(value="draft reply", id="draft")

    def on_mount(self) -> None:
        self.query_one("#draft", Input).focus()

    def action_search(self) -> None:
        self.push_screen(SearchScreen(self.store, self.operator, self.restrict),
                         self.results.append)


def _search_busy(app: App[Any]) -> bool:
    """A search screen's debounce has not fired yet, or its search has not answered."""
    return any(isinstance(s, SearchScreen) and (s._timer is not None or s.searching)
               for s in app.screen_stack)


async def settle(pilot: Any, timeout: float = 10.0) -> None:
    """Until every search screen's debounce has fired and its search answered, every
    worker is finished and the app is idle (its messages handled): a condition with a
    deadline, not a pause of a fixed length."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        await workers_done(app)
        await pilot.pause()  # idle: the workers' messages (_Done, …) are handled
        if not _search_busy(app) and all(w.is_finished for w in app.workers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"search still busy after {timeout} s")


def results_list(app: App[Any]) -> SearchResultsList:
    return app.screen.query_one(SearchResultsList)


def option_texts(app: App[Any]) -> list[str]:
    lst = results_list(app)
    return [str(getattr(lst.get_option_at_index(i).prompt, "plain", lst.get_option_at_index(i).prompt))
            for i in range(lst.option_count)]


@pytest.fixture
def filled(sqlite_store: Store) -> tuple[Store, dict[str, int]]:
    return sqlite_store, fill(sqlite_store)


async def test_type_move_open(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        texts = option_texts(app)
        assert any("Refund approved by finance" in t for t in texts)
        assert any("Also a refund for order 17" in t for t in texts)
        lst = results_list(app)
        first = lst.highlighted_hit()
        assert first is not None and first.message_id is not None
        await pilot.press("down")
        second = lst.highlighted_hit()
        assert second is not None and second != first
        await pilot.press("up")
        assert lst.highlighted_hit() == first
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.results == [second]
        assert app.focused is app.query_one("#draft")


async def test_results_follow_typing_and_cyrillic(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"счет")
        await settle(pilot)
        assert any("Где мой СЧЁТ?" in t for t in option_texts(app))
        for _ in range(4):
            await pilot.press("backspace")
        await pilot.press(*"invoice")
        await settle(pilot)
        texts = option_texts(app)
        assert any("invoice 4471" in t for t in texts)
        assert not any("СЧЁТ" in t for t in texts)


async def test_superseded_query_is_dropped(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        # A result computed for an older query arrives after the query changed: ignored.
        await pilot.press(*"invoice")
        await settle(pilot)
        from storage.search import Searcher

        stale = Searcher(store).search("refund")
        screen.post_message(SearchScreen._Done(screen._token - 1, stale))
        await pilot.pause()
        assert not any("Refund approved" in t for t in option_texts(app))
        assert any("invoice 4471" in t for t in option_texts(app))


async def test_malformed_query_is_explained_in_place(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        before = option_texts(app)
        await pilot.press(*' "appro')
        await settle(pilot)
        status = app.screen.query_one("#search-status", Static)
        assert "Column 8" in str(status.render()) and "closing quote" in str(status.render())
        assert status.has_class("-error")
        assert option_texts(app) == before  # the previous results stay
        assert app.screen.query_one("#search-input", Input).value == 'refund "appro'


async def test_escape_returns_exactly_where_you_were(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        draft = app.query_one("#draft", Input)
        draft.cursor_position = 5
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
        assert app.focused is draft and draft.value == "draft reply"
        assert draft.cursor_position == 5
        assert not isinstance(app.screen, SearchScreen)


async def test_client_markup_and_escapes_shown_literally(
        filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"red now")
        await settle(pilot)
        line = next(t for t in option_texts(app) if "now" in t)
        assert "[bold red]refund[/] now" in line
        assert "\x1b" not in line and "␛[31mRED" in line and "‹U+202E›" in line


async def test_order_toggle(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        assert "best first" in str(app.screen.query_one("#search-status", Static).render())
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "newest first" in str(app.screen.query_one("#search-status", Static).render())
        hits = [h for h in results_list(app)._hits.values() if h.message_id]
        assert hits and app.screen.order == "newest"


async def test_operator_restricted_to_own(filled: tuple[Store, dict[str, int]]) -> None:
    store, ids = filled
    boris = store.ensure_operator("Boris")
    app = Harness(store, boris, restrict=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        assert option_texts(app) == ["Nothing found."]


def test_snapshot_80x24(filled: tuple[Store, dict[str, int]], snap_compare: Any) -> None:
    store, ids = filled
    app = Harness(store, store.get_operator(ids["anna"]))

    async def run_before(pilot: Any) -> None:
        await pilot.press("ctrl+f")
        await pilot.press(*"refund")
        await settle(pilot)
        app.screen.query_one("#search-input", Input).cursor_blink = False
        await pilot.press("down")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# ---- the real console: open a hit 40,000 messages back --------------------------------------
def bulk_thread(store: Store, task_id: int, contact_id: int, count: int, needle_at: int) -> int:
    """``count`` messages in one task, fast (raw executemany); returns the needle's id."""
    from storage.search import index

    rows = [(task_id, INBOUND, contact_id,
             f"routine message number {i}" if i != needle_at else "the zanzibar parcel",
             to_micros(T0 + timedelta(seconds=i))) for i in range(count)]
    with store.db.atomic():  # a bulk load: without the index's triggers, then rebuild it
        index.uninstall(store.db)
        store.db.connection().executemany(
            "INSERT INTO message (task_id, kind, author_contact_id, text, created_at, meta, "
            "failure_reason, attempts, edited) VALUES (?, ?, ?, ?, ?, '{}', '', 0, 0)", rows)
        index.install(store.db, lambda *a: None)
    M = store.m.Message
    return int(M.get(M.text == "the zanzibar parcel").id)


async def test_open_a_hit_deep_in_a_long_thread(sqlite_store: Store, tmp_path: Path) -> None:
    from console.app import SwitchboardApp
    from console.config import Config, OperatorConfig
    from widgets.thread_view import ThreadView

    store = sqlite_store
    ids = fill(store)
    task_id = ids["ivan_task"]
    contact_id = store.get_task(task_id).contact_id
    needle = bulk_thread(store, task_id, contact_id, 40_000, needle_at=5)
    store.ingest(Inbound(channel_id=store.channel_by_name("tg").id, chat_id="ivan",
                         sender_id="ivan", text="the newest message", external_id="last",
                         sent_at=T0 + timedelta(days=2)))
    operator = store.get_operator(ids["anna"])
    app = SwitchboardApp(store, Config(operator=OperatorConfig("Anna", "operator")), operator,
                         clock=lambda: T0 + timedelta(days=3))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before_focus = app.focused
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape")  # Esc: back where we were
        await settle(pilot)
        assert not isinstance(app.screen, SearchScreen) and app.focused is before_focus
        await pilot.press("ctrl+f")
        await pilot.press(*"zanzibar")
        await settle(pilot)
        assert results_list(app).highlighted_hit() == SearchHit(
            task_id=task_id, message_id=needle, snippet="the zanzibar parcel",
            highlights=((4, 12),), created_at=T0 + timedelta(seconds=5), kind=INBOUND,
            task_number=store.get_task(task_id).number, author="Ivan Petrov")
        await pilot.press("enter")
        await settle(pilot)
        thread = app.screen.query_one(ThreadView)
        assert thread.selected_message is not None and thread.selected_message.id == needle
        assert len(thread.messages) <= 500  # paged to the hit, not everything after it
        assert thread.selected_message.task_id == task_id
        assert thread.current_task is not None and thread.current_task.id == task_id
