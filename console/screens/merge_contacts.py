"""Merge two contacts found by text: choose the one to keep, then the one merged into it.

Search runs ``store.find_contacts`` in a thread worker as the operator types. Enter on
a result picks the contact to keep first, then the one to merge into it; the summary
says what will happen and Enter on "Merge" (or ctrl+s) confirms. ctrl+r starts over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rows import ContactRow
from widgets.safe_text import clean, one_line


class ContactSearch(Protocol):
    def find_contacts(self, text: str, limit: int = 20) -> list[ContactRow]: ...


@dataclass(frozen=True)
class ContactMerge:
    survivor: ContactRow
    loser: ContactRow


def contact_label(contact: ContactRow) -> Text:
    text = Text(one_line(contact.name or _("(no name)"), 30), style="bold")
    extra = [*contact.phones, *contact.emails]
    if extra:
        text.append("  " + one_line(", ".join(extra), 40), style="dim")
    text.append(f"  #{contact.id}", style="dim")
    return text


class MergeContactsDialog(Dialog[ContactMerge | None]):
    BINDINGS = [
        Binding("ctrl+s", "confirm", _("Merge"), id="merge_contacts.confirm"),
        Binding("ctrl+r", "restart", _("Start over"), id="merge_contacts.restart"),
    ]

    def __init__(self, source: ContactSearch, query: str = "") -> None:
        super().__init__()
        self.source = source
        self.initial_query = query
        self.found: list[ContactRow] = []
        self.survivor: ContactRow | None = None
        self.loser: ContactRow | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="merge-contacts") as box:
            box.border_title = _("Merge contacts")
            box.border_subtitle = _("Enter picks · ctrl+s merges · ctrl+r starts over · Esc cancels")
            yield Input(self.initial_query, placeholder=_("Name, phone, email or messenger id…"),
                        id="contact-query")
            yield OptionList(id="contact-results")
            yield Static("", id="contact-choice", classes="dialog-info")
            yield Static("", id="contact-error", classes="dialog-error")
            yield Button(_("Merge"), id="contact-merge", variant="warning", disabled=True,
                         compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._describe()
        if self.initial_query:
            self.search(self.initial_query)

    @on(Input.Changed, "#contact-query")
    def _changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.search(event.value)
        else:
            self._results(event.value, [])

    @on(Input.Submitted, "#contact-query")
    def _submitted(self) -> None:
        results = self.query_one("#contact-results", OptionList)
        if self.found:
            results.highlighted = results.highlighted or 0
            results.focus()

    @work(thread=True, exclusive=True, group="contact-search", exit_on_error=False)
    def search(self, text: str) -> None:
        try:
            found = self.source.find_contacts(text)
        except SwitchboardError as err:
            self.app.call_from_thread(self._error, str(err))
            return
        self.app.call_from_thread(self._results, text, found)

    def _results(self, text: str, found: list[ContactRow]) -> None:
        if text != self.query_one("#contact-query", Input).value:
            return
        self.found = found
        results = self.query_one("#contact-results", OptionList)
        results.clear_options()
        results.add_options([Option(contact_label(c), id=str(c.id)) for c in found])
        if not found and text.strip():
            self._error(_("No contact matches {text}.").format(text=clean(text)))
        else:
            self._error("")

    def _error(self, message: str) -> None:
        self.query_one("#contact-error", Static).update(Text(message))

    @on(OptionList.OptionSelected, "#contact-results")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        contact = self.found[event.option_index]
        if self.survivor is None:
            self.survivor = contact
        elif contact.id == self.survivor.id:
            self._error(_("That is the contact to keep; pick another one to merge into it."))
            return
        else:
            self.loser = contact
        self._describe()
        if self.loser is not None:
            self.query_one("#contact-merge", Button).focus()

    def _describe(self) -> None:
        text = Text()
        keep = self.survivor
        text.append(_("Keep: "), style="bold")
        text.append(one_line(keep.name, 40) if keep else _("(pick with Enter)"))
        text.append("\n")
        text.append(_("Merge into it: "), style="bold")
        if keep is None:
            text.append("—")
        else:
            text.append(one_line(self.loser.name, 40) if self.loser else _("(pick with Enter)"))
        if keep and self.loser:
            text.append("\n" + _("Phones, emails, channel identities and tasks of the second "
                                 "contact move to the first. This cannot be undone."),
                        style="italic")
        self.query_one("#contact-choice", Static).update(text)
        self.query_one("#contact-merge", Button).disabled = not (keep and self.loser)

    def action_restart(self) -> None:
        self.survivor = self.loser = None
        self._describe()
        self._error("")
        self.query_one(Input).focus()

    @on(Button.Pressed, "#contact-merge")
    def action_confirm(self) -> None:
        if self.survivor is None or self.loser is None:
            self._error(_("Pick the contact to keep and the one to merge into it first."))
            return
        self.dismiss(ContactMerge(self.survivor, self.loser))
