"""The quick-replies picker opened by ``*`` in the composer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.widgets import OptionList, Static

from tests.console.conftest import AppFactory, Data, press, started
from widgets.composer import Composer
from widgets.quick_reply_picker import QuickReplyPicker
from widgets.task_list import TaskList


@asynccontextmanager
async def ivan_open(data: Data, make_app: AppFactory) -> AsyncIterator[tuple[Any, Any]]:
    """The console as Anna at 120x36 with Ivan's task open (the composer has the focus)."""
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(data.tasks["ivan"])
        await press(pilot, "enter")
        yield app, pilot


def preview_text(app) -> str:
    return str(app.screen.query_one("#qr-preview", Static).visual)


async def test_star_opens_picker_and_enter_inserts_expanded_reply(data: Data, make_app) -> None:
    async with ivan_open(data, make_app) as (app, pilot):
        await pilot.press(*"Hi ")
        await press(pilot, "asterisk")
        assert isinstance(app.screen, QuickReplyPicker)
        await press(pilot, *"gree")
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1
        assert preview_text(app) == "Hello Ivan Petrov, this is Anna."
        await press(pilot, "enter")
        assert not isinstance(app.screen, QuickReplyPicker)
        composer = app.screen.query_one(Composer)
        assert composer.text == "Hi Hello Ivan Petrov, this is Anna."
        assert app.focused is composer


async def test_words_in_any_order_and_partial(data: Data, make_app) -> None:
    async with ivan_open(data, make_app) as (app, pilot):
        await press(pilot, "asterisk")
        await press(pilot, *"deliv ord")
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1
        assert preview_text(app) == f"Your order in task #{data.tasks['ivan']} is on its way."


async def test_escape_leaves_the_text_untouched(data: Data, make_app) -> None:
    async with ivan_open(data, make_app) as (app, pilot):
        await pilot.press(*"Price: 5 ")
        await press(pilot, "asterisk")
        await press(pilot, *"greet")
        await press(pilot, "escape")
        composer = app.screen.query_one(Composer)
        assert composer.text == "Price: 5 *"
        assert app.focused is composer


async def test_star_inside_a_word_is_just_a_star(data: Data, make_app) -> None:
    async with ivan_open(data, make_app) as (app, pilot):
        await pilot.press(*"2")
        await pilot.press("asterisk")
        await press(pilot, *"3")
        assert not isinstance(app.screen, QuickReplyPicker)
        assert app.screen.query_one(Composer).text == "2*3"


async def test_unknown_variable_is_shown_and_not_inserted(data: Data, make_app) -> None:
    async with ivan_open(data, make_app) as (app, pilot):
        await press(pilot, "asterisk")
        await press(pilot, *"typo")
        assert "{{contact.nickname}}" in preview_text(app)
        assert app.screen.query_one("#qr-preview").has_class("-error")
        await press(pilot, "enter")
        assert isinstance(app.screen, QuickReplyPicker)  # refused: still open
        await press(pilot, "escape")
        assert app.screen.query_one(Composer).text == "*"


async def test_replies_in_the_typing_language_come_first(data: Data, make_app) -> None:
    data.store.add_quick_reply("Доставка заказа", "Заказ {{task.number}} уже в пути.",
                               language="ru", tags=("order", "заказ"))
    data.store.add_quick_reply("Address change", "You can change the address until dispatch.",
                               language="en", tags=("заказ",))
    async with ivan_open(data, make_app) as (app, pilot):
        await press(pilot, "asterisk")
        await press(pilot, *"заказ")
        picker = app.screen
        # the store lists them by title (Latin first); the Cyrillic query puts ru first
        assert [r.title for r in picker.replies] == ["Доставка заказа", "Address change"]
        assert preview_text(app) == f"Заказ {data.tasks['ivan']} уже в пути."
