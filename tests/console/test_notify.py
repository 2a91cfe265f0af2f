"""Notifications: the bell and OSC 9 / OSC 777 in the terminal's output stream when a
client writes in a task that is not open; scope and quiet hours; client text made inert."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from console.config_schema import NotificationsConfig
from console.notify import (
    ALL,
    Notifier,
    NotifySettings,
    QuietHours,
    desktop_sequences,
    plain,
    title_sequence,
)
from tests.console.conftest import Data, frozen_clock, inbound, settle, started
from tests.console.test_keystrokes import until


def test_client_text_cannot_escape_the_sequence() -> None:
    hostile = "hi\x1b]52;c;ZXZpbA==\x07\x9b31m" + "x" * 500
    out = desktop_sequences("#7 Eve;notify;fake", hostile)
    # exactly our two sequences: two ESC, two BEL, nothing the client sent acts
    assert out.count("\x1b") == 2 and out.count("\x07") == 2
    assert "\x9b" not in out
    assert out.startswith("\x1b]9;#7 Eve,notify,fake: hi ]52;c;ZXZpbA==")
    assert "\x1b]777;notify;#7 Eve,notify,fake;hi" in out
    assert len(plain(hostile, 120)) == 120


def test_title_sequence_is_osc_2() -> None:
    assert title_sequence("Switchboard (3)") == "\x1b]2;Switchboard (3)\x07"


@pytest.mark.parametrize(("span", "moment", "quiet"), [
    ("22:00-08:00", time(23, 30), True), ("22:00-08:00", time(7, 59), True),
    ("22:00-08:00", time(8, 0), False), ("12:00-13:00", time(12, 30), True),
    ("12:00-13:00", time(13, 30), False),
])
def test_quiet_hours(span: str, moment: time, quiet: bool) -> None:
    hours = QuietHours.parse(span)
    assert hours is not None and hours.holds(moment) is quiet


def test_config_rejects_a_bad_span() -> None:
    with pytest.raises(ValueError):
        NotificationsConfig(quiet_hours="22-8")


def test_scope(data: Data) -> None:
    written: list[str] = []
    task = data.store.get_task(data.tasks["ivan"])  # unassigned
    mine = Notifier(NotifySettings(), data.anna.id, written.append, frozen_clock)
    assert not mine.client_wrote(task, "hello", None)
    anyone = Notifier(NotifySettings(scope=ALL), data.anna.id, written.append, frozen_clock)
    assert not anyone.client_wrote(task, "hello", open_task_id=task.id)  # it is open
    assert anyone.client_wrote(task, "hello", None)
    assert written[-1].startswith("\x07\x1b]9;")
    quiet = Notifier(NotifySettings(scope=ALL, quiet=QuietHours.parse("20:00-22:00")),
                     data.anna.id, written.append, lambda: datetime(2020, 6, 1, 21, tzinfo=UTC))
    assert not quiet.client_wrote(task, "hello", None)


async def test_a_client_writing_elsewhere_rings_through_the_driver(data: Data) -> None:
    config = Config(operator=OperatorConfig("Anna", "operator"),
                    notifications=NotificationsConfig(scope="all"))
    app = SwitchboardApp(data.store, config, data.anna, clock=frozen_clock)
    async with started(app) as pilot:
        out: list[str] = []
        driver = app._driver
        real = driver.write

        def record(text: str) -> None:
            out.append(text)
            real(text)

        driver.write = record  # type: ignore[method-assign]
        data.store.ingest(inbound(data.tg, "ivan", "Any news?\x1b[2J", 30, "Ivan Petrov"))
        await until(pilot, lambda: any("\x1b]777;notify;" in o for o in out))
        await settle(pilot)
        stream = "".join(out)
        assert "\x07\x1b]9;#" in stream and "Ivan Petrov: Any news?" in stream
        assert "\x1b[2J" not in stream
        assert "\x1b]2;Switchboard (" in stream  # the window title's unread count
