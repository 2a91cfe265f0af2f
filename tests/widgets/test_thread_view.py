"""ThreadView over a real SQLite store: window paging, jump, live follow, states, notes."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.app import App, ComposeResult
from textual.message import Message

from storage.inputs import AttachmentIn, Inbound
from storage.store import Store
from tests.widgets.conftest import fill_thread, screen_lines, settle
from widgets.thread_view import ThreadView


class ThreadApp(App[None]):
    def __init__(self, store: Store, page_size: int = 100, max_window: int = 400,
                 view: type[ThreadView] = ThreadView) -> None:
        super().__init__()
        self.store = store
        self.page_size = page_size
        self.max_window = max_window
        self.view = view
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.view(self.store, id="thread", page_size=self.page_size,
                        max_window=self.max_window)

    def on_thread_view_retry_requested(self, message: ThreadView.RetryRequested) -> None:
        self.seen.append(message)

    def on_thread_view_message_selected(self, message: ThreadView.MessageSelected) -> None:
        self.seen.append(message)


async def _open(pilot: object, store: Store, task_id: int) -> ThreadView:
    view = pilot.app.query_one(ThreadView)  # type: ignore[attr-defined]
    view.show_task(store.get_task(task_id))
    await settle(pilot)
    return view


def thread_of(store: Store, web: int, messages: int) -> tuple[list[int], int]:
    """A web-chat thread of ``messages`` client messages: their ids and the task's id."""
    ids = fill_thread(store, web, messages)
    return ids, store.get_message(ids[0]).task_id


@asynccontextmanager
async def opened(store: Store, task_id: int, **options: Any) -> AsyncIterator[tuple[Any, ThreadView]]:
    """``ThreadApp(store, **options)`` at 80×24 with the task's thread open and settled."""
    async with ThreadApp(store, **options).run_test(size=(80, 24)) as pilot:
        yield pilot, await _open(pilot, store, task_id)


async def test_opens_at_the_end_with_one_page(sqlite_store: Store, web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 250)
    async with opened(sqlite_store, task_id) as (pilot, view):
        # A screenful first (half the height in messages: 12), then at most one page before
        # it in the background: never the whole thread.
        assert view.pages_loaded <= 2 and 12 <= len(view.messages) <= 12 + 100
        assert view.at_end and not view.at_start
        assert view.messages[-1].id == ids[-1]
        assert view.scroll_y == view.max_scroll_y > 0
        assert view.selected_message is not None and view.selected_message.id == ids[-1]
        lines = screen_lines(view)
        assert any("line 00249" in line for line in lines)
        assert not any("line 00100" in line for line in lines)


async def test_scrolling_up_loads_older_pages_and_keeps_place(sqlite_store: Store, web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 250)
    async with opened(sqlite_store, task_id) as (pilot, view):
        first = 250 - len(view.messages)  # index of the oldest message shown at opening
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        assert view.messages[0].id == ids[first - 100] and len(view.messages) == 350 - first
        # The message that was at the top is still where the operator left it.
        lines = screen_lines(view)
        assert any(f"line {first:05d}" in line for line in lines[:4])
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        assert view.at_start and len(view.messages) == 251  # 250 + the "task created" event
        view.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        assert "Beginning of the conversation" in screen_lines(view)[0]


async def test_window_stays_bounded_and_end_key_returns(sqlite_store: Store, web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 700)
    async with opened(sqlite_store, task_id, page_size=100, max_window=200) as (pilot, view):
        first = 700 - len(view.messages)
        for _ in range(4):
            view.scroll_to(y=0, animate=False, force=True)
            await settle(pilot)
        assert len(view.messages) == 200 and not view.at_end
        assert view.messages[0].id == ids[first - 400]
        view.focus()
        await pilot.press("end")
        await settle(pilot)
        assert view.at_end and view.messages[-1].id == ids[-1]
        assert view.selected_message.id == ids[-1]
        await pilot.press("home")
        await settle(pilot)
        assert view.at_start and view.selected_message.id == ids[0] - 1  # the "created" event
        assert view.scroll_y == 0


async def test_jump_to_deep_message_then_page_both_ways(sqlite_store: Store, web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 600)
    async with opened(sqlite_store, task_id) as (pilot, view):
        view.jump_to(ids[300])
        await settle(pilot)
        assert view.selected_message is not None and view.selected_message.id == ids[300]
        assert not view.at_start and not view.at_end
        lines = screen_lines(view)
        cursor_lines = [line for line in lines if line.startswith("▌")]
        assert any("line 00300" in line for line in cursor_lines)
        view.scroll_to(y=view.max_scroll_y, animate=False, force=True)
        await settle(pilot)
        assert view.messages[0].id == ids[251]  # around: 50 before (with the hit), 50 after
        assert view.messages[-1].id == ids[450]  # and the page after the window arrived
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        assert view.messages[0].id < ids[250]


async def test_jump_to_message_of_another_task(sqlite_store: Store, web: int) -> None:
    first = fill_thread(sqlite_store, web, 5, chat="a", name="Alice")
    second = fill_thread(sqlite_store, web, 5, chat="b", name="Bob")
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = await _open(pilot, sqlite_store, sqlite_store.get_message(first[0]).task_id)
        view.jump_to(second[2])
        await settle(pilot)
        assert view.current_task.contact_name == "Bob"
        assert view.selected_message.id == second[2]


async def test_live_messages_followed_only_at_bottom(sqlite_store: Store, web: int, anna: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 150)
    async with opened(sqlite_store, task_id) as (pilot, view):
        reply = sqlite_store.reply(task_id, anna, "we are looking into it")
        view.message_added(reply.id)
        await settle(pilot)
        assert view.messages[-1].id == reply.id
        assert view.scroll_y == view.max_scroll_y
        assert view.selected_message.id == reply.id
        assert any("we are looking into it" in line for line in screen_lines(view))
        view.scroll_to(y=view.max_scroll_y - 30, animate=False, force=True)
        await pilot.pause()
        before = view.scroll_y
        other = sqlite_store.reply(task_id, anna, "second answer")
        view.message_added(other.id)
        await settle(pilot)
        assert view.messages[-1].id == other.id
        assert view.scroll_y == before  # not yanked to the bottom while reading


async def test_edited_message_is_refetched(sqlite_store: Store, web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 3)
    async with opened(sqlite_store, task_id) as (pilot, view):
        sqlite_store.edit_inbound(web, "long-2", "corrected text")
        view.message_changed(ids[2])
        await settle(pilot)
        lines = screen_lines(view)
        assert any("corrected text" in line for line in lines)
        assert any("edited" in line for line in lines)


async def test_delivery_states_failed_retry_and_notes(sqlite_store: Store, web: int, anna: int) -> None:
    ids = fill_thread(sqlite_store, web, 1)
    task_id = sqlite_store.get_message(ids[0]).task_id
    sent = sqlite_store.reply(task_id, anna, "answer sent")
    sqlite_store.claim_outbox()
    sqlite_store.mark_sent(sent.id, "x-sent")
    delivered = sqlite_store.reply(task_id, anna, "answer delivered")
    sqlite_store.claim_outbox()
    sqlite_store.mark_sent(delivered.id, "x-delivered")
    sqlite_store.mark_delivery(web, "x-delivered", "delivered")
    read = sqlite_store.reply(task_id, anna, "answer read")
    sqlite_store.claim_outbox()
    sqlite_store.mark_sent(read.id, "x-read")
    sqlite_store.mark_delivery(web, "x-read", "read")
    failed = sqlite_store.reply(task_id, anna, "answer failed")
    sqlite_store.mark_failed(failed.id, "Forbidden: bot was blocked by the user")
    note = sqlite_store.note(task_id, anna, "VIP, be gentle")
    queued = sqlite_store.reply(task_id, anna, "answer queued")
    async with ThreadApp(sqlite_store).run_test(size=(100, 60)) as pilot:
        view = await _open(pilot, sqlite_store, task_id)
        lines = screen_lines(view)
        text = "\n".join(lines)
        for body, mark in (("answer sent", "✓ sent"), ("answer delivered", "✓✓ delivered"),
                           ("answer read", "✓✓ read"), ("answer queued", "◷ queued"),
                           ("answer failed", "✗ failed")):
            at = next(i for i, line in enumerate(lines) if body in line)
            header = lines[at - 1]  # author · time ... delivery mark, right above the body
            assert "Anna" in header and header.rstrip().endswith(mark), (body, header)
        assert "Not delivered: Forbidden: bot was blocked by the user" in text
        assert "press r to retry" in " ".join(line.strip(" ▌") for line in lines)  # may wrap
        assert "Private note · not sent to client" in text
        assert "VIP, be gentle" in text
        # The company's messages sit on the right, the client's on the left.
        client_line = next(line for line in lines if "line 00000" in line)
        ours = next(line for line in lines if "answer sent" in line)
        assert client_line.index("line 00000") < 5 < ours.index("answer sent")

        # Notes look different: another background than outbound bubbles.
        def background(needle: str) -> object:
            y = next(i for i, line in enumerate(lines) if needle in line)
            strip = view.render_line(y)
            return next(s.style.bgcolor for s in strip if needle.split()[0] in s.text)

        assert background("VIP, be gentle") != background("answer sent")
        assert background("VIP, be gentle") != view.rich_style.bgcolor

        # Retry: only the failed outbound message can be retried.
        view.focus()
        assert view.selected_message.id == queued.id
        assert view.check_action("retry", ()) is None
        await pilot.press("r")
        await pilot.press("k")
        assert view.selected_message.id == note.id and view.check_action("retry", ()) is None
        await pilot.press("k")
        assert view.selected_message.id == failed.id and view.check_action("retry", ()) is True
        await pilot.press("r")
        await pilot.pause()
        retries = [m for m in pilot.app.seen if isinstance(m, ThreadView.RetryRequested)]
        assert [m.message.id for m in retries] == [failed.id]
        selected = [m.message.id for m in pilot.app.seen if isinstance(m, ThreadView.MessageSelected)]
        assert selected[-2:] == [note.id, failed.id]


async def test_attachments_events_and_day_separators(sqlite_store: Store, web: int, anna: int) -> None:
    result = sqlite_store.ingest(Inbound(
        channel_id=web, chat_id="f", sender_id="f", text="see attached", external_id="f1",
        display_name="Олег", attachments=(AttachmentIn("счёт [1].pdf", size=1_536_000),
                                           AttachmentIn("\x1b[31mevil.png", size=900))))
    sqlite_store.assign([result.task.id], anna)
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = await _open(pilot, sqlite_store, result.task.id)
        lines = screen_lines(view)
        text = "\n".join(lines)
        assert "📎 счёт [1].pdf · 1.5 MB" in text and "📎 ␛[31mevil.png · 900 B" in text
        assert "── Today ──" in text
        assert "Олег" in text
        event = next(line for line in lines if "Assigned to Anna." in line)
        body = event.strip(" ▌")
        assert body.startswith("·") and event.index(body) > 10  # centred, inline


async def test_hostile_text_is_literal_and_huge_messages_are_capped(sqlite_store: Store, web: int) -> None:
    hostile = "[bold red]PAY[/] \x1b[2J\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe\u202c [link=http://x]y[/link]"
    huge = ("word " * 2000 + "\n") * 200  # ~2 MB, 200 lines of 10,000 characters
    sqlite_store.ingest(Inbound(channel_id=web, chat_id="h", sender_id="h", text=hostile,
                                external_id="h1", display_name="[i]Eve[/i]"))
    result = sqlite_store.ingest(Inbound(channel_id=web, chat_id="h", sender_id="h", text=huge,
                                         external_id="h2"))
    async with ThreadApp(sqlite_store).run_test(size=(160, 40)) as pilot:
        started = time.perf_counter()
        view = await _open(pilot, sqlite_store, result.task.id)
        assert time.perf_counter() - started < 3
        view.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        text = "\n".join(screen_lines(view))
        assert "[bold red]PAY[/] ␛[2J␛]52;c;ZXZpbA==␇ ‹U+202E›gnp.exe‹U+202C›" in text
        assert "[link=http://x]y[/link]" in text and "[i]Eve[/i]" in text
        assert "\x1b" not in text and "\u202e" not in text
        block = view._block(len(view.messages) - 1)
        assert len(block) < 60  # capped, whatever the message's size
        assert any("message truncated in view" in s.text and "more lines" in s.text for s in block)


async def test_merged_messages_carry_moved_from_mark(sqlite_store: Store, web: int, anna: int) -> None:
    target = fill_thread(sqlite_store, web, 2, chat="t", name="Tanya")
    source = fill_thread(sqlite_store, web, 2, chat="s", name="Sasha")
    target_task = sqlite_store.get_message(target[0]).task_id
    source_task = sqlite_store.get_task(sqlite_store.get_message(source[0]).task_id)
    sqlite_store.merge_tasks(target_task, [source_task.id], anna, different_clients_ok=True)
    async with ThreadApp(sqlite_store).run_test(size=(120, 40)) as pilot:
        view = await _open(pilot, sqlite_store, target_task)
        assert {m.id for m in view.messages} >= set(source)
        lines = screen_lines(view)
        moved = [line for line in lines if f"moved from #{source_task.number}" in line]
        assert len(moved) >= 2  # both of Sasha's messages, by number, not by id
        assert any(f"Task #{source_task.number} was merged into this task." in line for line in lines)


async def test_theme_change_and_resize_rerender(sqlite_store: Store, web: int) -> None:
    long_text = "слово " * 60
    result = sqlite_store.ingest(Inbound(channel_id=web, chat_id="w", sender_id="w", text=long_text,
                                         external_id="w1", display_name="Wide"))
    async with ThreadApp(sqlite_store).run_test(size=(80, 30)) as pilot:
        pilot.app.theme = "textual-dark"
        view = await _open(pilot, sqlite_store, result.task.id)
        narrow = sum(1 for line in screen_lines(view) if "слово" in line)
        y = next(i for i, line in enumerate(screen_lines(view)) if "слово" in line)
        dark = view.render_line(y)
        pilot.app.theme = "textual-light"
        await pilot.pause()
        light = view.render_line(y)
        assert dark.text == light.text
        assert [s.style.bgcolor for s in dark] != [s.style.bgcolor for s in light]
        await pilot.resize_terminal(160, 30)
        await settle(pilot)
        wide = sum(1 for line in screen_lines(view) if "слово" in line)
        assert wide < narrow
        assert all(view.render_line(i).cell_length == view.scrollable_content_region.width
                   for i in range(view.scrollable_content_region.height))


async def test_message_arriving_while_opening_is_shown_once(sqlite_store: Store, web: int, anna: int) -> None:
    ids = fill_thread(sqlite_store, web, 30)
    task = sqlite_store.get_task(sqlite_store.get_message(ids[0]).task_id)
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(ThreadView)
        view.show_task(task)
        assert view.is_loading
        reply = sqlite_store.reply(task.id, anna, "arrived during opening")
        view.message_added(reply.id)  # the screen relays the store event at once
        await settle(pilot)
        assert [m.id for m in view.messages].count(reply.id) == 1
        assert view.messages[-1].id == reply.id


class _GatedSource:
    """The store, with the newest-page read held until ``gate`` opens (a slow database)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.gate = threading.Event()
        self.gate.set()

    def thread_before(self, *args: object, **kwargs: object) -> object:
        assert self.gate.wait(10), "the test never opened the gate"
        return self.store.thread_before(*args, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


async def _wait_until(pilot: object, check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)  # type: ignore[attr-defined]


async def test_opening_another_thread_forgets_the_old_one_at_once(sqlite_store: Store,
                                                                  web: int) -> None:
    """The old thread's messages leave the view the moment another task opens (no key can
    act on them), but the screen is not repainted empty while the page is coming: only a
    page slower than LOADING_SHOWN_AFTER shows "Loading…"."""
    old = fill_thread(sqlite_store, web, 40, chat="old", name="Old Client")
    new = fill_thread(sqlite_store, web, 40, chat="new", name="New Client")
    source = _GatedSource(sqlite_store)
    async with ThreadApp(source).run_test(size=(80, 24)) as pilot:  # type: ignore[arg-type]
        view = await _open(pilot, sqlite_store, sqlite_store.get_message(old[0]).task_id)
        tall = view.virtual_size.height
        assert tall > 24 and view.selected_message is not None
        source.gate.clear()
        view.show_task(sqlite_store.get_task(sqlite_store.get_message(new[0]).task_id))
        assert view.messages == () and view.selected_message is None and view.is_loading
        assert view.virtual_size.height == tall  # not laid out (nor painted) empty yet
        await _wait_until(pilot, lambda: view.virtual_size.height < tall, "the Loading… layout")
        assert any("Loading…" in line for line in screen_lines(view))
        source.gate.set()
        await settle(pilot)
        assert view.messages[-1].id == new[-1] and view.at_end
        assert all(m.id not in set(old) for m in view.messages)


class _FirstFrameView(ThreadView):
    """Records how many messages the first frame after a page is drawn from."""

    first_frames: list[int]

    def _window_drawn(self) -> None:
        self.first_frames = [*getattr(self, "first_frames", []), len(self.messages)]


async def test_first_frame_is_drawn_from_a_screenful_then_the_page_joins(sqlite_store: Store,
                                                                         web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 250)
    async with opened(sqlite_store, task_id, view=_FirstFrameView) as (pilot, view):
        first_frame = view.first_frames[0]  # type: ignore[attr-defined]
        assert 1 <= first_frame < 12  # fewer than the first page (half the height: 12)
        assert len(view.messages) >= 12  # the rest of the page joined right after
        got = [m.id for m in view.messages]
        assert got == sorted(got) and got == ids[250 - len(got):]  # no gap, no duplicate
        assert view.at_end and view.scroll_y == view.max_scroll_y
        assert view.selected_message is not None and view.selected_message.id == ids[-1]
        assert any("line 00249" in line for line in screen_lines(view))


class _HeldView(ThreadView):
    """Keeps the head of the first page held until the test lets it join."""

    release_tokens: list[int]

    def _release_held(self, token: int) -> None:
        self.release_tokens = [*getattr(self, "release_tokens", []), token]

    def let_join(self) -> None:
        for token in self.release_tokens:
            super()._release_held(token)


async def test_an_edit_of_a_message_not_drawn_yet_is_not_lost(sqlite_store: Store,
                                                              web: int) -> None:
    """A message of the first page's head (fetched, not yet laid out) edited meanwhile
    joins the window in its edited form."""
    ids, task_id = thread_of(sqlite_store, web, 40)
    async with opened(sqlite_store, task_id, view=_HeldView) as (pilot, view):
        held = view._held  # noqa: SLF001 - the state under test
        assert held and view.messages[0].id == held[-1].id + 1
        target = held[-1]
        external = f"long-{ids.index(target.id)}"
        sqlite_store.edit_inbound(web, external, "corrected before it was drawn")
        view.message_changed(target.id)
        await settle(pilot)
        view.let_join()
        await settle(pilot)
        joined = next(m for m in view.messages if m.id == target.id)
        assert joined.text == "corrected before it was drawn" and joined.edited


async def test_a_message_announced_again_while_held_is_not_shown_twice(sqlite_store: Store,
                                                                       web: int) -> None:
    ids, task_id = thread_of(sqlite_store, web, 40)
    async with opened(sqlite_store, task_id, view=_HeldView) as (pilot, view):
        target = view._held[-1]  # noqa: SLF001 - the state under test
        view.message_added(target.id)  # e.g. a late "stored" event for it
        await settle(pilot)
        view.let_join()
        await settle(pilot)
        shown = [m.id for m in view.messages]
        assert shown.count(target.id) == 1 and shown == sorted(shown)


async def test_a_window_that_is_not_drawn_still_gets_its_whole_page(sqlite_store: Store,
                                                                    web: int) -> None:
    """The head of the first page joins after the first frame; a view nobody draws
    (hidden behind a dialog, or not displayed) gets it after FIRST_FRAME_AT_LATEST."""
    ids = fill_thread(sqlite_store, web, 40)
    task = sqlite_store.get_task(sqlite_store.get_message(ids[0]).task_id)
    async with ThreadApp(sqlite_store).run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(ThreadView)
        view.display = False
        await pilot.pause()
        view.show_task(task)
        await _wait_until(pilot, lambda: bool(view.messages), "the page")
        assert view._held  # noqa: SLF001 - nothing drew it: the head waits
        await _wait_until(pilot, lambda: not view._held, "the head to join")  # noqa: SLF001
        shown = [m.id for m in view.messages]
        assert shown[-10:] == ids[-10:] and shown == sorted(shown)  # a hidden view's page: 10
