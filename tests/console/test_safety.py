"""Client-supplied text displays literally and harmlessly in the whole app: Rich markup,
ANSI/OSC escapes, bidi overrides, very long lines (names, messages, file names)."""

from __future__ import annotations

from textual.widgets import Static

from console.screens.dialog import task_named
from storage.inputs import AttachmentIn
from tests.console.conftest import Data, inbound, settle
from widgets.contact_card import ContactCardView
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView

NAME = "[bold red]Evil[/] \x1b]52;c;ZXZpbA==\x07 \u202eexe.txt"
TEXT = "\x1b[31mred\x1b[0m [link=http://evil.example]click[/link] \x1b[2J"
LONG = "x" * 20000
FILE = "[b]x[/b]\x1b[2J\u202egpj.exe"


def lines(widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_hostile_client_text_is_shown_literally(data: Data, make_app) -> None:
    store = data.store
    store.ingest(inbound(data.web, "evil", LONG, 199, NAME))
    result = store.ingest(inbound(data.web, "evil", TEXT, 200, NAME,
                                  attachments=(AttachmentIn(FILE, "image/jpeg", 2048),)))
    app = make_app(data.anna)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        tasks = app.screen.query_one(TaskList)
        assert tasks.highlighted_task.id == result.task.id
        listed = lines(tasks)
        assert "[bold red]Evil[/]" in listed and "\x1b" not in listed
        await pilot.press("enter")
        await settle(pilot)
        thread = lines(app.screen.query_one(ThreadView))
        for shown in (thread,):
            assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
        assert "␛[31mred␛[0m" in thread
        assert "[link=http://evil.example]click[/link]" in thread
        assert "[b]x[/b]␛[2J‹U+202E›gpj" in thread
        await pilot.press("ctrl+o")
        await settle(pilot)
        card = app.screen.query_one(ContactCardView)
        name = str(card.query_one("#card-name", Static).visual)
        assert name.startswith("[bold red]Evil[/] ␛]52;c;ZXZpbA==␇ ‹U+202E›exe.txt")
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\u202e" not in screen
        assert "[bold&#160;red]Evil[/]" in screen or "[bold red]Evil[/]" in screen


async def test_a_hostile_name_in_a_notice_is_shown_literally(data: Data, make_app) -> None:
    """Notices name the client ("Task #3 Evil (web) ..."): Textual's toasts parse markup
    by default, so a name like ``[/]`` would be styled or break the toast."""
    store = data.store
    result = store.ingest(inbound(data.web, "evil2", "hi", 201, "[bold red]Evil[/] [/x]"))
    app = make_app(data.anna)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        row = store.get_task(result.task.id)
        app.notify(f"Queued for sending again in task {task_named(row)}.")
        app.screen.notify(f"Task {task_named(row)} is yours now.")
        for _ in range(20):  # toasts mount on the next refreshes
            await pilot.pause()
            toasts = list(app.screen.query("Toast"))
            if len(toasts) == 2:
                break
        shown = [t.render().plain for t in toasts]
        assert len(shown) == 2
        assert all("[bold red]Evil[/] [/x]" in s for s in shown), shown
