"""The inbox's width class (``-narrow`` under 110 columns, ``-wide`` from 110) is set
when the screen is built, so the first frame is laid out for the terminal it is in,
and a resize still switches it (``SwitchboardApp.main_screen``; Textual's breakpoints)."""

from __future__ import annotations

import pytest

from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from tests.console.conftest import Data, frozen_clock


@pytest.mark.parametrize(("width", "expected", "other"),
                         [(80, "-narrow", "-wide"), (109, "-narrow", "-wide"),
                          (110, "-wide", "-narrow"), (160, "-wide", "-narrow")])
async def test_the_screen_is_built_with_its_width_class(data: Data, width: int, expected: str,
                                                         other: str) -> None:
    app = SwitchboardApp(data.store, Config(operator=OperatorConfig("Anna")), data.anna,
                         clock=frozen_clock)
    async with app.run_test(size=(width, 30)) as pilot:
        built = app.main_screen()  # before any resize reaches it
        assert built.has_class(expected) and not built.has_class(other)
        await pilot.pause()
        assert app.screen.has_class(expected) and not app.screen.has_class(other)


async def test_a_resize_still_switches_the_class(data: Data) -> None:
    app = SwitchboardApp(data.store, Config(operator=OperatorConfig("Anna")), data.anna,
                         clock=frozen_clock)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-wide")
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert app.screen.has_class("-narrow") and not app.screen.has_class("-wide")
