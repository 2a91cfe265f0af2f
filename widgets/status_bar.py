"""The status bar: who is working, in which role, and whether the channels are alive.

One line at the bottom. Channel health comes from the gateway (``set_health``); the
connection state names the database (SQLite file or PostgreSQL) and whether the
gateway runs in this process. Everything is plain ``Text``: channel names and
health details come from configuration and remote APIs and are not trusted markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from storage.i18n import _
from widgets.safe_text import one_line

GOOD = ("ok", "up", "running", "connected")
BAD = ("down", "error", "failed", "stopped", "disconnected")


class StatusBar(Widget):
    """Operator, role, the current filter's task count, channel health and connection state."""

    COMPONENT_CLASSES = {"status-bar--good", "status-bar--warn", "status-bar--bad",
                         "status-bar--dim"}

    DEFAULT_CSS = """
    StatusBar > .status-bar--good { color: $success; }
    StatusBar > .status-bar--warn { color: $warning; }
    StatusBar > .status-bar--bad { color: $error; text-style: bold; }
    StatusBar > .status-bar--dim { color: $text-muted; }
    StatusBar {
        height: 1;
        dock: bottom;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    operator: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    connection: reactive[str] = reactive("")
    health: reactive[dict[str, tuple[str, str]]] = reactive(dict, always_update=True)
    available: reactive[bool | None] = reactive(None)  # None: not known yet

    def on_mount(self) -> None:
        self.available = getattr(self.app, "operator_available", None)

    def set_health(self, name: str, state: str, detail: str = "") -> None:
        self.health = {**self.health, name: (state, detail)}

    def render(self) -> Text:
        dim = self.get_component_rich_style("status-bar--dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(one_line(self.operator, 24), style="bold")
        if self.role:
            text.append(f" ({_(self.role)})", style=dim)
        if self.available is not None:
            text.append("  " + (_("available") if self.available else _("away")),
                        style=self.get_component_rich_style(
                            "status-bar--good" if self.available else "status-bar--dim"))
        if self.connection:
            text.append("  " + self.connection, style=dim)
        for name, (state, detail) in sorted(self.health.items()):
            level = "good" if state in GOOD else "bad" if state in BAD else "warn"
            text.append("  ●", style=self.get_component_rich_style(f"status-bar--{level}"))
            text.append(f" {one_line(name, 16)}: {one_line(_(state), 12)}")
            if detail and level != "good":
                text.append(f" {one_line(detail, 30)}", style=dim)
        return text
