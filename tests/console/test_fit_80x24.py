"""Issue 19 item 7: at 80×24 nothing is cut — footer keys whole, titles in whole words.

The Russian side (and its snapshot) is ``test_snapshots_ru.py``: key labels are
translated when their modules are imported, so it runs the console in a fresh process.
"""

from __future__ import annotations

from typing import Any

from textual.widgets._footer import FooterKey

from console.screens.assign import AssignDialog
from storage.store import Store
from tests.console.conftest import inbound, settle
from tests.console.fixtures.scenes import busy
from widgets.composer import Composer
from widgets.fit import fit_words
from widgets.key_footer import KeyFooter
from widgets.task_list import TaskList


def screen_lines(app: Any) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def footer_labels(app: Any) -> tuple[list[str], str]:
    """("key description" of every key the footer shows, the footer's line on screen)."""
    footer = app.screen.query_one(KeyFooter)
    labels = [f"{key.key_display} {key.description}".strip()
              for key in footer.query(FooterKey)]
    return labels, screen_lines(app)[-1]


def assert_whole(labels: list[str], line: str) -> None:
    """The line is exactly the shown labels, each whole, then blanks, then the palette."""
    assert labels, line
    keys, palette = labels[:-1], labels[-1]
    left, bar, right = line.rpartition("▏")
    assert bar and right == palette, line  # nothing stray after the palette key
    assert left.rstrip(" ") == " ".join(keys), line


# ---- the rule -----------------------------------------------------------------------------

def test_fit_words_keeps_whole_words() -> None:
    assert fit_words("Open a task to write", 40) == "Open a task to write"
    assert fit_words("Open a task to write (Enter on the task list)", 30) == \
        "Open a task to write (Enter…"
    assert fit_words("Reply to Ольга Кузнецова · Telegram", 28) == "Reply to Ольга Кузнецова…"
    assert fit_words("Неделимоедлинноеслово", 8) == "Неделим…"
    assert fit_words("anything", 0) == ""


def test_footer_chooses_whole_keys_help_first() -> None:
    keys = [FooterKey("s", "^s", "Send", "send"), FooterKey("o", "^o", "Contact", "contact"),
            FooterKey("f1", "f1", "Help", "app.help"), FooterKey("/", "/", "Search", "search")]
    # "^s Send"=8, "^o Contact"=11, "f1 Help"=8, "/ Search"=9 (each with its margin)
    assert [k.description for k in KeyFooter.choose(keys, 36)] == \
        ["Send", "Contact", "Help", "Search"]
    assert [k.description for k in KeyFooter.choose(keys, 25)] == ["Send", "Help", "Search"]
    assert [k.description for k in KeyFooter.choose(keys, 8)] == ["Help"]


# ---- the console at 80×24 -----------------------------------------------------------------

async def test_footer_labels_are_whole_at_80x24(sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    app = make_app(data.anna)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert_whole(*footer_labels(app))
        app.screen.query_one(TaskList).select_task_id(data.tasks["olga"])
        await settle(pilot, rounds=1)
        await pilot.press("enter")
        await settle(pilot)
        labels, line = footer_labels(app)
        assert_whole(labels, line)
        assert "f1 Help" in labels


async def test_narrow_footer_drops_keys_never_cuts_them(sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    app = make_app(data.anna)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        wide, _ = footer_labels(app)
        await pilot.resize_terminal(50, 24)
        await settle(pilot)
        narrow, line = footer_labels(app)
        assert_whole(narrow, line)
        assert len(narrow) < len(wide) and "f1 Help" in narrow
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert footer_labels(app)[0] == wide


async def test_composer_title_in_whole_words(sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    app = make_app(data.anna)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        title = str(composer.border_title)
        assert title.endswith("…") and "Open a task to write" in title
        full = "Open a task to write (Enter on the task list)"
        assert full.startswith(title[:-1].rstrip(" ("))
        assert len(title) <= composer.outer_size.width - 6
        await pilot.resize_terminal(200, 24)
        await settle(pilot)
        assert "…" not in str(app.screen.query_one(Composer).border_title)


async def test_dialog_title_in_whole_words(sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    channel = sqlite_store.ensure_channel("webchat", "support chat of the northern region")
    task = sqlite_store.ingest(inbound(channel.id, "long", "Hi", 1, "Константин Заде")).task
    app = make_app(data.anna)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one(TaskList).select_task_id(task.id)
        await settle(pilot, rounds=1)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignDialog)
        box = app.screen.query_one(".dialog")
        title = str(box.border_title)
        full = f"Assign task #{task.number} Константин Заде (support chat of the northern region)"
        assert title.endswith("…") and len(title) <= box.outer_size.width - 6, title
        head = title[:-1]
        assert full.startswith(head) and full[len(head)] == " ", title  # ends on a word
        assert title in "\n".join(screen_lines(app))
