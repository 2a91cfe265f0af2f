"""The command palette (ctrl+p): every action of the console, fuzzy-searchable.

The provider asks the screen under the palette for its commands
(``palette_commands()``: title, help, callback) and adds the app's own: help,
search, themes, quit. Actions that cannot run now are refused by their
``check_action`` when invoked, exactly as their keys are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from storage.i18n import _

Command = tuple[str, str, Callable[[], Any]]


class SwitchboardCommands(Provider):
    def _commands(self) -> list[Command]:
        app: Any = self.app
        commands: list[Command] = []
        screen: Any = self.screen
        if hasattr(screen, "palette_commands"):
            commands += screen.palette_commands()
        commands += [
            (_("Help: keys"), _("Show every key binding"), partial(app.run_action, "help")),
            (_("Search messages"), _("Full-text search over conversations"),
             partial(app.run_action, "search")),
            (_("Next theme"), _("Switch to the next Switchboard theme"),
             partial(app.run_action, "next_theme")),
            (_("Available / away"), _("Toggle whether auto-assignment gives you new tasks"),
             partial(app.run_action, "toggle_available")),
        ]
        for name in getattr(app, "shipped_themes", ()):
            commands.append((_("Theme: {name}").format(name=name), _("Use this theme"),
                             partial(setattr, app, "theme", name)))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
