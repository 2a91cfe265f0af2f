"""Assign the marked tasks (or the highlighted one) to an operator, or to nobody."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.i18n import _, ngettext
from storage.rows import OperatorRow
from widgets.safe_text import clean

NOBODY = "nobody"


@dataclass(frozen=True)
class AssignChoice:
    """The dialog's answer: ``operator_id`` None means "unassign"."""

    operator_id: int | None


class AssignDialog(Dialog[AssignChoice | None]):
    def __init__(self, operators: list[OperatorRow], count: int) -> None:
        super().__init__()
        self.operators = operators
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = ngettext("Assign {n} task", "Assign {n} tasks",
                                        self.count).format(n=self.count)
            box.border_subtitle = _("Enter assigns · Esc cancels")
            options = [Option(Text(clean(o.name) + (f"  ({_(o.role)})" if o.role != "operator"
                                                     else "")), id=str(o.id))
                       for o in self.operators]
            options.append(Option(_("Nobody (unassign)"), id=NOBODY))
            yield OptionList(*options, id="assign-list")
            yield Static(_("Choose who works on them."), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#assign-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        value = event.option.id
        self.dismiss(AssignChoice(None if value == NOBODY else int(value or 0)))
