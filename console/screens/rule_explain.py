"""Which rules acted on the open task and why, and which would fire now (issue 18).

The lines come from the rules engine (:func:`storage.rules.explain_lines`,
:func:`storage.rules.history_lines`), computed by the screen in a thread worker; this
dialog only shows them, as plain text (rule titles and client data are never markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.screens.dialog import Dialog
from storage.i18n import _

if TYPE_CHECKING:  # the rules (pydantic models) load when first asked for, not at start
    from storage.rules import RuleSet


def console_ruleset(config: Any) -> RuleSet:
    """The rules the desk runs, chosen as the automation runner chooses them."""
    from storage.rules.loader import configured_rules

    where = getattr(config, "path", None)
    return configured_rules(getattr(config, "rules", None),
                            Path(where).parent if where is not None else None)


def rule_report(store: Any, task_id: int, ruleset: RuleSet) -> list[str]:
    """The dry run and the firing history of ``task_id`` (blocking: call from a worker)."""
    from storage.rules import Automation, explain, explain_lines, firings_for, history_lines

    automation = Automation(store, ruleset)
    lines = [_("Rules now:"), *explain_lines(explain(automation, task_id))]
    if not ruleset.rules:
        lines.append(_("No rules are configured (the config's rules: key)."))
    lines.append("")
    history = firings_for(store, task_id)
    lines.append(_("Rules that acted on this task:") if history else
                 _("No rule has acted on this task yet."))
    lines += history_lines(history, {r.id: r.title for r in ruleset.rules})
    return lines


class RuleExplainDialog(Dialog[None]):
    DEFAULT_CSS = """
    RuleExplainDialog #rules-lines { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rules") as box:
            box.border_title = self.title_text
            box.border_subtitle = _("Esc closes")
            with VerticalScroll(id="rules-lines"):
                yield Static(Text("\n".join(self.lines)), id="rules-text")

    def on_mount(self) -> None:
        self.query_one("#rules-lines").focus()
