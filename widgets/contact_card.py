"""The contact card: who the client is, where they can be reached, every task of theirs.

Shows the name, phones, emails, every channel identity, the contacts merged into this
one, every task (of merged contacts too: the store moves them to the survivor), and a
"Write" button per channel. A channel that cannot open a conversation (a Telegram
bot, Facebook outside its 24-hour window...) shows a disabled button with the reason
the store gives (``write_first_refusal``). WhatsApp is enabled with a note: it needs
an approved template, asked for in the dialog.

The card loads in a thread worker; it posts :class:`ContactCardView.WriteRequested`
and :class:`ContactCardView.TaskChosen` and never writes to the store itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from storage.constants import STATUS_LABELS
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rows import ContactCard, TaskRow
from widgets.safe_text import clean, one_line

TEMPLATE_KINDS = ("whatsapp",)


class CardSource(Protocol):
    def contact_card(self, contact_id: int) -> ContactCard: ...

    def write_first_refusal(self, contact_id: int, channel_id: int,
                            template: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class WriteOption:
    """One "Write" button: the channel, and why it is refused (None: allowed)."""

    channel_id: int
    channel_name: str
    channel_kind: str
    refusal: str | None
    needs_template: bool = False


def task_label(task: TaskRow) -> Text:
    label = Text(f"#{task.number} ", style="bold")
    label.append(f"{_(STATUS_LABELS.get(task.status, task.status))} ", style="italic")
    label.append(f"[{clean(task.channel_name) or _('no channel')}] ", style="dim")
    label.append(one_line(task.last_preview or task.title, 60))
    return label


class ContactCardView(VerticalScroll):
    """The right-hand contact card. ``show_contact(id)`` loads it; ``clear()`` empties it."""

    DEFAULT_CSS = """
    ContactCardView {
        width: 40;
        border-left: vkey $panel;
        padding: 0 1;
        background: $surface;
    }
    ContactCardView .card-name { text-style: bold; color: $text; }
    ContactCardView .card-section { color: $text-muted; text-style: bold; margin-top: 1; }
    ContactCardView #card-write { height: auto; margin-top: 1; }
    ContactCardView .write-row { height: auto; layout: vertical; margin-bottom: 1; }
    ContactCardView .write-row Button { min-width: 12; height: 1; border: none; }
    ContactCardView .write-reason { color: $text-muted; width: 1fr; height: auto; padding-left: 1; }
    ContactCardView .write-reason.-refused { color: $warning; }
    ContactCardView OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    """

    class WriteRequested(Message):
        def __init__(self, contact_id: int, option: WriteOption) -> None:
            super().__init__()
            self.contact_id = contact_id
            self.option = option

    class TaskChosen(Message):
        def __init__(self, task_id: int) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, source: CardSource, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.source = source
        self.contact_id: int | None = None
        self.card: ContactCard | None = None
        self.options: list[WriteOption] = []
        self._lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static(_("No contact: open a task."), id="card-name", classes="card-name")
        yield Static("", id="card-details")
        yield Static(_("Channels"), classes="card-section")
        yield Static("", id="card-identities")
        yield Vertical(id="card-write")
        yield Static("", id="card-tasks-title", classes="card-section")
        yield OptionList(id="card-tasks")

    def show_contact(self, contact_id: int | None) -> None:
        self.contact_id = contact_id
        if contact_id is None:
            self.clear()
            return
        self.load(contact_id)

    def reload(self) -> None:
        if self.contact_id is not None:
            self.load(self.contact_id)

    def clear(self) -> None:
        self.contact_id = None
        self.call_later(self._show, None, None, [])

    @work(thread=True, exclusive=True, group="contact-card", exit_on_error=False)
    def load(self, contact_id: int) -> None:
        try:
            card = self.source.contact_card(contact_id)
            options = []
            seen: set[int] = set()
            for identity in card.identities:
                if identity.channel_id in seen:
                    continue
                seen.add(identity.channel_id)
                refusal = self.source.write_first_refusal(card.contact.id, identity.channel_id)
                needs_template = False
                if refusal and identity.channel_kind in TEMPLATE_KINDS:
                    with_template = self.source.write_first_refusal(
                        card.contact.id, identity.channel_id, template="template")
                    if with_template is None:
                        refusal, needs_template = None, True
                options.append(WriteOption(identity.channel_id, identity.channel_name,
                                           identity.channel_kind, refusal, needs_template))
        except SwitchboardError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        self.app.call_from_thread(self.call_later, self._show, contact_id, card, options)

    async def _show(self, contact_id: int | None, card: ContactCard | None,
                    options: list[WriteOption]) -> None:
        """Fill the card. Serialized: a burst of reloads must not interleave remounts."""
        async with self._lock:
            if contact_id != self.contact_id:
                return
            self.card, self.options = card, options
            rows = self.query_one("#card-write", Vertical)
            await rows.remove_children()
            tasks = self.query_one("#card-tasks", OptionList)
            tasks.clear_options()
            if card is None:
                self.query_one("#card-name", Static).update(_("No contact: open a task."))
                for part in ("#card-details", "#card-identities", "#card-tasks-title"):
                    self.query_one(part, Static).update("")
                return
            self._fill(card)
            await rows.mount_all([self._write_row(n, o) for n, o in enumerate(options)])
            tasks.add_options([Option(task_label(t), id=str(t.id)) for t in card.tasks])

    def _fill(self, card: ContactCard) -> None:
        c = card.contact
        self.query_one("#card-name", Static).update(Text(clean(c.name) or _("(no name)")))
        details = Text()
        for phone in c.phones:
            details.append(_("Phone: ") + clean(phone) + "\n")
        for email in c.emails:
            details.append(_("Email: ") + clean(email) + "\n")
        for absorbed in card.absorbed:
            details.append(_("Merged: ") + clean(absorbed.name) + "\n", style="dim")
        details.rstrip()
        self.query_one("#card-details", Static).update(details)
        identities = Text()
        for identity in card.identities:
            identities.append(f"{clean(identity.channel_name)} ({identity.channel_kind}): ",
                              style="bold")
            identities.append(clean(identity.display_name or identity.username
                                    or identity.external_id))
            if identity.username:
                identities.append(f" @{clean(identity.username)}", style="dim")
            if identity.phone:
                identities.append(f" {clean(identity.phone)}", style="dim")
            identities.append("\n")
        identities.rstrip()
        self.query_one("#card-identities", Static).update(identities)
        self.query_one("#card-tasks-title", Static).update(
            _("Tasks ({n})").format(n=len(card.tasks)))

    def _write_row(self, n: int, option: WriteOption) -> Horizontal:
        button = Button(_("Write: {channel}").format(channel=clean(option.channel_name)),
                        id=f"write-{n}", disabled=option.refusal is not None, compact=True)
        # The reason goes on its own line under the button: a side column is too narrow
        # for a sentence (Russian reasons broke mid-word there).
        if option.refusal:
            reason = Static(Text(option.refusal), classes="write-reason -refused")
        elif option.needs_template:
            reason = Static(Text(_("needs an approved template")), classes="write-reason")
        else:
            return Vertical(button, classes="write-row")
        return Vertical(button, reason, classes="write-row")

    @on(Button.Pressed)
    def _write(self, event: Button.Pressed) -> None:
        event.stop()
        if self.card is None or not event.button.id or not event.button.id.startswith("write-"):
            return
        option = self.options[int(event.button.id.split("-", 1)[1])]
        if option.refusal is None:
            self.post_message(self.WriteRequested(self.card.contact.id, option))

    @on(OptionList.OptionSelected, "#card-tasks")
    def _task(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.TaskChosen(int(event.option.id)))
