"""Write first: open a conversation with a contact in one channel.

The dialog runs ``store.write_first`` itself (in a thread worker) and closes only when
the store accepted the message, so a refusal (the window closed meanwhile, a missing
template) is shown here and the typed text is not lost. WhatsApp asks for the name
of an approved template message.
"""

from __future__ import annotations

from typing import Protocol

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static, TextArea

from console.screens.dialog import Dialog
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rows import MessageRow
from widgets.contact_card import WriteOption
from widgets.safe_text import clean


class WriteFirstSource(Protocol):
    def write_first(self, contact_id: int, channel_id: int, operator_id: int | None, text: str,
                    template: str | None = None) -> MessageRow: ...


class WriteFirstDialog(Dialog[MessageRow | None]):
    """Dismisses with the queued message, or None when cancelled."""

    BINDINGS = [Binding("ctrl+s", "send", _("Send"), id="write_first.send")]

    DEFAULT_CSS = """
    WriteFirstDialog #wf-text { height: 6; }
    WriteFirstDialog #wf-template { margin-top: 1; }
    """

    def __init__(self, source: WriteFirstSource, contact_id: int, contact_name: str,
                 option: WriteOption, operator_id: int | None) -> None:
        super().__init__()
        self.source = source
        self.contact_id = contact_id
        self.contact_name = contact_name
        self.option = option
        self.operator_id = operator_id
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="write-first") as box:
            box.border_title = _("Write to {name} in {channel}").format(
                name=clean(self.contact_name), channel=clean(self.option.channel_name))
            box.border_subtitle = _("ctrl+s sends · Esc cancels")
            yield TextArea("", id="wf-text", soft_wrap=True, tab_behavior="focus")
            if self.option.needs_template:
                yield Input(placeholder=_("Approved template name (required by WhatsApp)"),
                            id="wf-template")
            yield Static("", id="wf-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#wf-text", TextArea).focus()

    def action_send(self) -> None:
        if self.sending:
            return
        text = self.query_one("#wf-text", TextArea).text
        template = None
        if self.option.needs_template:
            template = self.query_one("#wf-template", Input).value.strip() or None
        if not text.strip():
            self._error(_("The message is empty."))
            return
        if self.option.needs_template and not template:
            self._error(_("WhatsApp needs the name of an approved template message."))
            self.query_one("#wf-template", Input).focus()
            return
        self.sending = True
        self._error("")
        self.send(text, template)

    @work(thread=True, exclusive=True, group="write-first", exit_on_error=False)
    def send(self, text: str, template: str | None) -> None:
        try:
            message = self.source.write_first(self.contact_id, self.option.channel_id,
                                              self.operator_id, text, template)
        except SwitchboardError as err:
            self.app.call_from_thread(self._failed, str(err))
            return
        self.app.call_from_thread(self._sent, message)

    def _sent(self, message: MessageRow) -> None:
        # Not awaited: awaiting the dismissal from the worker's callback would wait for
        # this very worker to end.
        self.dismiss(message)

    def _failed(self, message: str) -> None:
        self.sending = False
        self._error(message)

    def _error(self, message: str) -> None:
        self.query_one("#wf-error", Static).update(Text(message))
