"""Rule explanations from the open task, and the rules' notifications to this operator."""

from __future__ import annotations

import dataclasses

from rich.text import Text

from console.screens.notifications import NotificationsDialog
from console.screens.rule_explain import RuleExplainDialog
from storage.rules import default_rules, notifications_for
from storage.rules.log import rule_models
from tests.console.conftest import Data, press, settle, started
from tests.console.test_drafts import open_task
from widgets.task_list import TaskList


def dialog_text(app) -> str:
    content = app.screen.query_one("#rules-text").render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_the_open_task_shows_which_rules_would_fire_and_why(data: Data, make_app,
                                                                  monkeypatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_RULES", raising=False)
    app = make_app(data.anna)
    app.config = dataclasses.replace(app.config, rules="defaults")  # the shipped rules
    async with started(app) as pilot:
        await open_task(pilot, data.tasks["ivan"])
        app.screen.query_one(TaskList).focus()
        await press(pilot, "w")
        assert isinstance(app.screen, RuleExplainDialog)
        text = dialog_text(app)
        assert text.startswith("Rules now:")
        titles = [rule.title for rule in default_rules().rules]
        assert titles and all(title in text for title in titles)
        assert "No rule has acted on this task yet." in text
        assert "#1" in str(app.screen.query_one("#rules").border_title)
        await press(pilot, "escape")
        assert not isinstance(app.screen, RuleExplainDialog)


async def test_no_configured_rules_says_so(data: Data, make_app, monkeypatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_RULES", raising=False)
    app = make_app(data.anna)  # the config has no rules: key
    async with started(app) as pilot:
        await open_task(pilot, data.tasks["ivan"])
        app.screen.query_one(TaskList).focus()
        await press(pilot, "w")
        assert "No rules are configured" in dialog_text(app)


async def test_notifications_are_listed_marked_seen_and_open_their_task(data: Data,
                                                                       make_app) -> None:
    store, mark = data.store, data.tasks["mark"]
    N = rule_models(store).Notification
    with store.transaction():
        N.create(task=mark, operator=data.anna.id, rule="stale", text="Task #3 waits 30 min")
        N.create(task=mark, operator=data.boris.id, rule="stale", text="for Boris only")
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).focus()
        await press(pilot, "exclamation_mark")
        dialog = app.screen
        assert isinstance(dialog, NotificationsDialog)
        assert [n.text for n in dialog.rows] == ["Task #3 waits 30 min"]
        await press(pilot, "enter")
        await settle(pilot)
        assert app.screen.current is not None and app.screen.current.id == mark
    assert notifications_for(store, data.anna.id) == []
    assert len(notifications_for(store, data.boris.id)) == 1
