"""Merge the marked tasks into one of them, chosen here.

Merging cannot be undone, so the dialog says, for the highlighted target, which
channel the merged task will write through: the target's own, or — when the target
has none — the first source's that has one (the store's rule, see ``storage/merging.py``),
or none at all. Enter on a target confirms.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.i18n import _
from storage.rows import TaskRow
from widgets.safe_text import clean, one_line


def resulting_channel(target: TaskRow, sources: list[TaskRow]) -> tuple[TaskRow | None, str]:
    """Which task's channel the merged task keeps, and a sentence saying so."""
    if target.channel_id is not None:
        return target, _("The merged task keeps the target's channel: {channel}.").format(
            channel=clean(target.channel_name))
    for source in sources:
        if source.channel_id is not None:
            return source, _("The target has no channel: the merged task takes {channel} from "
                             "task #{number}.").format(channel=clean(source.channel_name),
                                                       number=source.number)
    return None, _("None of these tasks has a channel: the merged task cannot write to a "
                   "client.")


def task_option(task: TaskRow) -> Text:
    text = Text(f"#{task.number} ", style="bold")
    text.append(one_line(task.contact_name or _("(no name)"), 24))
    text.append(f"  [{clean(task.channel_name) or _('no channel')}]  ", style="dim")
    text.append(one_line(task.last_preview or task.title, 40), style="italic")
    return text


class MergeTasksDialog(Dialog[int | None]):
    """Dismisses with the chosen target task id (the others are merged into it)."""

    def __init__(self, tasks: list[TaskRow]) -> None:
        super().__init__()
        self.tasks = tasks

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="merge-tasks") as box:
            box.border_title = _("Merge the {n} marked tasks into one").format(n=len(self.tasks))
            box.border_subtitle = _("Enter merges into the highlighted task · Esc cancels")
            yield Static(_("Choose the target task; the others' messages move into it, in date "
                           "order. This cannot be undone."), classes="dialog-hint")
            yield OptionList(*[Option(task_option(t), id=str(t.id)) for t in self.tasks],
                             id="merge-target")
            yield Static("", id="merge-channel", classes="dialog-info")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def target(self) -> TaskRow | None:
        index = self.query_one(OptionList).highlighted
        return self.tasks[index] if index is not None else None

    @on(OptionList.OptionHighlighted, "#merge-target")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        target = self.tasks[event.option_index]
        sources = [t for t in self.tasks if t.id != target.id]
        _channel_task, sentence = resulting_channel(target, sources)
        self.query_one("#merge-channel", Static).update(Text(sentence))

    @on(OptionList.OptionSelected, "#merge-target")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.tasks[event.option_index].id)
