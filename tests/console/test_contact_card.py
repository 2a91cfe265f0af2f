"""The contact card and "Write" (write first) from it."""

from __future__ import annotations

from textual.widgets import Button, Input, OptionList, Static

from console.screens.write_first import WriteFirstDialog
from storage.models import OUTBOUND, QUEUED
from tests.console.conftest import Data, inbound, settle
from widgets.contact_card import ContactCardView
from widgets.task_list import TaskList


async def open_card(pilot, task_id: int) -> ContactCardView:
    await settle(pilot)
    pilot.app.screen.query_one(TaskList).select_task_id(task_id)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)
    return pilot.app.screen.query_one(ContactCardView)


def card_text(card: ContactCardView) -> str:
    return "\n".join(str(s.visual) for s in card.query(Static))


async def test_card_lists_identities_tasks_and_write_per_channel(data: Data, make_app) -> None:
    store = data.store
    store.merge_contacts(data.contacts["mark"], data.contacts["ivan"], data.anna.id)
    app = make_app(data.anna)
    async with app.run_test(size=(140, 40)) as pilot:
        card = await open_card(pilot, data.tasks["mark"])
        assert card.display and app.screen.has_class("-card-open")
        text = card_text(card)
        assert "Mark Stone" in text
        assert "mark@example.com" in text
        assert "Merged: Ivan Petrov" in text
        assert "web (webchat)" in text and "tg (telegram)" in text
        tasks = card.query_one("#card-tasks", OptionList)
        assert tasks.option_count == 2  # the merged contact's task is listed too
        buttons = {str(b.label): b for b in card.query(Button)}
        assert not buttons["Write: web"].disabled
        assert buttons["Write: tg"].disabled
        assert "Telegram bot cannot start a conversation" in text
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not app.screen.has_class("-card-open")


async def test_write_first_from_the_card(data: Data, make_app) -> None:
    store = data.store
    app = make_app(data.anna)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_card(pilot, data.tasks["mark"])
        await pilot.press("tab")  # the card's first enabled button: Write: web
        assert isinstance(app.focused, Button) and str(app.focused.label) == "Write: web"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WriteFirstDialog)
        await pilot.press("ctrl+s")  # empty: refused in the dialog
        await settle(pilot)
        assert "empty" in str(app.screen.query_one("#wf-error").visual)
        await pilot.press(*"We have news about your order")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, WriteFirstDialog)
    last = store.thread_before(data.tasks["mark"]).items[-1]
    assert (last.kind, last.text, last.delivery_state) == (
        OUTBOUND, "We have news about your order", QUEUED)


async def test_whatsapp_write_first_needs_a_template(data: Data, make_app) -> None:
    store = data.store
    wa = store.ensure_channel("whatsapp", "wa").id
    result = store.ingest(inbound(wa, "79990001122", "hi", 50, "Pavel"))
    app = make_app(data.anna)
    async with app.run_test(size=(140, 40)) as pilot:
        card = await open_card(pilot, result.task.id)
        assert "needs an approved template" in card_text(card)
        await pilot.press("tab", "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, WriteFirstDialog)
        await pilot.press(*"Your order shipped")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "template" in str(dialog.query_one("#wf-error").visual)
        assert isinstance(app.focused, Input)
        await pilot.press(*"order_shipped")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, WriteFirstDialog)
    last = store.thread_before(result.task.id).items[-1]
    assert last.text == "Your order shipped" and last.meta.get("template") == "order_shipped"
