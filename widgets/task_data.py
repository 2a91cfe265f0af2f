"""The task's additional description data, quoted above its conversation.

Read-only, as the store keeps it: what the system recorded (channel, page, UTM tags,
phone...) with its keys labelled in the UI language (``storage.additional_data.label``);
what the client supplied, apart and marked as coming from the client; and for a
follow-up task the link to the previous task (its number) and the last messages
carried over from it (the task's description).

Every value is client-controlled text at worst: it is cleaned of control characters
and shown as plain text, never as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from storage.additional_data import CLIENT_KEY, label
from storage.i18n import _
from storage.rows import TaskRow
from widgets.safe_text import clean, one_line

# Said elsewhere: the channel in the task list and the composer's title, the previous
# task in the quote's first line.
HIDDEN = frozenset({"channel", "channel_kind", "previous_task"})
VALUE_MAX = 60  # cells a single value may take


def _value(value: Any) -> str:
    if isinstance(value, dict | list | tuple):
        value = ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) \
            else ", ".join(str(v) for v in value)
    return one_line(clean(str(value)), VALUE_MAX)


def quote_text(task: TaskRow | None) -> Text:
    """The quote for ``task`` (empty when it has nothing to show): the link to the
    previous task and the lines carried over from it first, then the system's data and
    the client's."""
    lines: list[Text] = []
    if task is None:
        return Text()
    data = task.additional_data or {}
    previous = data.get("previous_task")
    if previous not in (None, ""):
        lines.append(Text(_("Follows task #{number}").format(number=_value(previous)),
                          "bold"))
    carried = [line for line in (task.description or "").splitlines() if line.strip()]
    if previous not in (None, "") and carried and carried[0].startswith(
            _("Previous task: #{number}").format(number=previous)):
        carried = carried[1:]  # the link is already said above
    lines.extend(Text(one_line(clean(line), 200), "dim") for line in carried)
    system = [(k, v) for k, v in sorted(data.items())
              if k != CLIENT_KEY and k not in HIDDEN and v not in (None, "")]
    if system:
        lines.append(_pairs([(label(k), v) for k, v in system], ""))
    client = data.get(CLIENT_KEY)
    if isinstance(client, dict) and client:
        line = Text(_("From the client (not checked):") + " ", "italic bold")
        line.append_text(_pairs([(one_line(clean(str(k)), 30), v)
                                 for k, v in sorted(client.items())], "italic"))
        lines.append(line)
    return Text("\n").join(lines)


def _pairs(pairs: list[tuple[str, Any]], style: str) -> Text:
    """"Label: value · Label: value" as plain text."""
    text = Text()
    for n, (key, value) in enumerate(pairs):
        if n:
            text.append(" · ", "dim")
        text.append(f"{key}: ", style + " bold" if style else "bold")
        text.append(_value(value), style)
    return text


class TaskDataQuote(Static):
    """A non-editable quote of the open task's additional data (hidden when empty)."""

    DEFAULT_CSS = """
    TaskDataQuote {
        height: auto;
        max-height: 45%;
        overflow-y: auto;
        border-left: outer $secondary;
        padding: 0 1;
        color: $text-muted;
        background: $boost;
        display: none;
    }
    TaskDataQuote.-shown { display: block; }
    """

    can_focus = False

    def show(self, task: TaskRow | None) -> None:
        content = quote_text(task)
        self.update(content)
        self.set_class(bool(content.plain), "-shown")
