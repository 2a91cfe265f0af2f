"""The inbox: task list left, conversation centre, composer below, contact card right.

This screen is the mediator ("messages up, attributes down"): the task list, thread,
composer and card post messages; the screen calls the store in thread workers and
tells the widgets what changed. Live updates arrive as :class:`StoreChanged` batches
from the app's events bridge and are applied by :mod:`console.screens.inbox_live`;
nothing here polls. Attributes go down: the task list gets each channel's tag from the
channel policies the store was opened with.

Layout: on wide terminals the task list takes 38% of the width (40–64 columns; 28%
while the contact card takes another 30%) so previews are readable; below 110 columns
(``-narrow``) it is 30–36 columns and the contact card, when open, takes the task
list's place, so the conversation keeps at least 50 columns at 80×24. Filters, mass
actions and dialogs live in :mod:`console.screens.inbox_actions`.

The composer is bound to the task it was opened for: each task keeps the operator's
unsent text and mode as a draft (:mod:`console.screens.drafts`), and a send goes to the
task the text was written for, after the ownership notice and the channel's limits
(:mod:`console.screens.reply_flow`). The task's additional data is quoted above its
conversation (:class:`widgets.task_data.TaskDataQuote`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from console.events_bridge import StoreChanged
from console.filters import ALL, FilterChoice
from console.screens.dialog import task_named
from console.screens.drafts import DraftKeeper
from console.screens.inbox_actions import InboxActions
from console.screens.inbox_composer import InboxComposer
from console.screens.inbox_live import LiveUpdates
from console.screens.inbox_triage import InboxTriage
from console.screens.reply_flow import ReplyFlow, reply_target
from storage.errors import SwitchboardError
from storage.i18n import _
from storage.rows import OperatorRow, TaskRow
from storage.store import Store
from widgets.composer import Composer
from widgets.contact_card import ContactCardView
from widgets.key_footer import KeyFooter
from widgets.safe_text import one_line
from widgets.status_bar import StatusBar
from widgets.task_data import TaskDataQuote
from widgets.task_list import TaskList
from widgets.thread_header import ThreadHeader
from widgets.thread_view import ThreadView

log = logging.getLogger(__name__)
T = TypeVar("T")


class InboxScreen(InboxTriage, InboxComposer, InboxActions, Screen[None]):
    """The operator's main screen."""

    DEFAULT_CSS = """
    InboxScreen #body { height: 1fr; }
    InboxScreen #left { width: 38%; min-width: 40; max-width: 64; border-right: vkey $panel; }
    InboxScreen.-card-open #left { width: 28%; min-width: 32; }
    InboxScreen.-narrow #left { width: 34%; min-width: 30; max-width: 36; }
    InboxScreen #filter-bar { height: 1; padding: 0 1; background: $boost; color: $text; text-style: bold; }
    InboxScreen #tasks { height: 1fr; }
    InboxScreen #centre { width: 1fr; }
    InboxScreen #thread { height: 1fr; }
    InboxScreen #card { display: none; width: 30%; min-width: 36; max-width: 48; }
    InboxScreen.-card-open #card { display: block; }
    InboxScreen.-narrow #card { width: 30; min-width: 30; }
    InboxScreen.-narrow.-card-open #left { display: none; }
    InboxScreen StatusBar { dock: none; }
    """

    KEYMAP_GROUP = "inbox"  # its keys in the reference (console.keymap)
    BINDINGS = [
        Binding("1", "filter('mine')", _("Mine"), id="inbox.filter_mine", show=False,
                tooltip=_("Show my open tasks.")),
        Binding("2", "filter('unassigned')", _("Unassigned"), id="inbox.filter_unassigned", show=False,
                tooltip=_("Show open tasks nobody has taken.")),
        Binding("3", "filter('all')", _("All"), id="inbox.filter_all", show=False,
                tooltip=_("Show every task.")),
        Binding("4", "filter_channel", _("Channel"), id="inbox.filter_channel", show=False,
                tooltip=_("Show one channel's tasks; press again for the next channel.")),
        Binding("5", "filter_status", _("Status"), id="inbox.filter_status", show=False,
                tooltip=_("Show tasks in one status; press again for the next status.")),
        Binding("ctrl+o", "toggle_card", _("Contact"), id="inbox.toggle_card",
                tooltip=_("Show or hide the contact card of the open task.")),
        Binding("ctrl+t", "take_over", _("Take"), id="inbox.take_over",
                tooltip=_("Take the open task: it becomes yours.")),
        Binding("m", "merge_tasks", _("Merge"), id="inbox.merge_tasks",
                tooltip=_("Merge the marked tasks into one of them.")),
        Binding("a", "assign", _("Assign"), id="inbox.assign",
                tooltip=_("Assign the marked tasks (or the highlighted one).")),
        Binding("s", "status", _("Status"), id="inbox.status", show=False,
                tooltip=_("Change the status of the marked tasks (or the highlighted one).")),
        Binding("M", "merge_contacts", _("Merge contacts"), id="inbox.merge_contacts",
                show=False, tooltip=_("Find two contacts and merge them.")),
        Binding("f2", "send_next", _("Send+next"), id="inbox.send_next", show=False,
                tooltip=_("Send the reply, then open the next task waiting for an answer.")),
        Binding("ctrl+r", "done_next", _("Done+next"), id="inbox.done_next", show=False,
                tooltip=_("Set the open task done, then open the next task waiting for an "
                          "answer.")),
        Binding("u", "next_unread", _("Next unread"), id="inbox.next_unread", show=False,
                tooltip=_("Open the task with the oldest unread client message.")),
        Binding("escape", "focus_tasks", _("Task list"), id="inbox.focus_tasks", show=False,
                tooltip=_("Back to the task list; clears the marks when already there.")),
        # Issues 16–19, composer side (console.screens.inbox_composer):
        Binding("z", "snooze", _("Snooze"), id="inbox.snooze", show=False,
                tooltip=_("Hide the open task until a time or until the client writes.")),
        Binding("L", "scheduled", _("Scheduled"), id="inbox.scheduled", show=False,
                tooltip=_("List the scheduled replies; cancel one.")),
        Binding("w", "rules", _("Why"), id="inbox.rules", show=False,
                tooltip=_("Which rules acted on the open task and why, and which would fire now.")),
        Binding("exclamation_mark", "notifications", _("Notifications"), id="inbox.notifications", show=False,
                tooltip=_("Show the notifications addressed to you.")),
        Binding("O", "open_file", _("Open file"), id="inbox.open_file", show=False,
                tooltip=_("Open the file of the selected message with the system's opener.")),
        Binding("D", "save_file", _("Save file"), id="inbox.save_file", show=False,
                tooltip=_("Save the file of the selected message elsewhere.")),
    ]

    def __init__(self, store: Store, operator: OperatorRow, *, keys: dict[str, str] | None = None,
                 language: str | None = None, default_filter: str = ALL) -> None:
        super().__init__()
        self.store = store
        self.me = operator
        self.keys = dict(keys or {})
        self.language = language
        self.choice = FilterChoice(default_filter)
        self.current: TaskRow | None = None
        self.marks: frozenset[int] = frozenset()
        self.channels: list[Any] = []
        self.operators: list[OperatorRow] = []
        self.drafts = DraftKeeper(store, operator.id, self, self._drafts_changed)
        self.replies = ReplyFlow(self)
        self.live = LiveUpdates(self)
        # What the inbox opened on, for the next start's first frame (console.launch).
        self.start_filter = self.choice.task_filter(operator.id)
        self.start_filter_text = self.filter_bar_text()
        # Rows the task list shows until its first page arrives (set by the app: the
        # first frame's, when it showed this filter).
        self.meanwhile: tuple[TaskRow, ...] = ()

    # ---- layout ----------------------------------------------------------------------------
    def app_time(self) -> tuple[Callable[[], datetime] | None, tzinfo | None]:
        """The app's clock (``SwitchboardApp(clock=...)``, for ages and "Today") and the
        zone message times are shown in (the app's ``timezone``; None: the local zone)."""
        return getattr(self.app, "clock", None), getattr(self.app, "timezone", None)

    def compose(self) -> ComposeResult:
        clock, tz = self.app_time()
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static("", id="filter-bar", markup=False)
                tasks = TaskList(self.store, self.choice.task_filter(self.me.id), id="tasks",
                                 clock=clock, channel_tags=self.channel_tags())
                tasks.show_meanwhile(self.meanwhile)
                yield tasks
            with Vertical(id="centre"):
                yield from self.compose_above_thread()
                yield ThreadHeader(id="thread-header", clock=clock)
                yield TaskDataQuote(id="task-data")
                yield ThreadView(self.store, id="thread", clock=clock, tz=tz)
                yield Composer(id="composer")
            yield ContactCardView(self.store, id="card")
        yield StatusBar(id="status")
        yield KeyFooter()

    def channel_tags(self) -> dict[str, str]:
        """Each channel kind's tag in the task list, as its plug-in declares it."""
        return {kind: self.store.policy(kind).short_tag for kind in self.store.policies.kinds()}

    def compose_above_thread(self) -> list[Widget]:
        """Widgets above the conversation (the supervisor's summary)."""
        return []

    def on_mount(self) -> None:
        composer = self.query_one(Composer)
        composer.set_key_hints(self.keys.get("composer.send", "ctrl+s"),
                               self.keys.get("composer.toggle_note", "ctrl+n"))
        self._update_composer()
        self._update_filter_bar()
        status = self.query_one(StatusBar)
        status.operator, status.role = self.me.name, self.me.role
        status.connection = getattr(self.app, "connection_label", "")
        for name, (state, detail) in getattr(self.app, "health", {}).items():
            status.set_health(name, state, detail)
        self.query_one(TaskList).focus()
        self.load_directory()
        self.drafts.start()
        self.watch(composer, "private", self._composer_mode_changed, init=False)
        self.refresh_unread_title()
        self.presence_changed()

    def on_unmount(self) -> None:
        self.drafts.flush_now()  # the inbox is closing: a restart finds the drafts

    @work(thread=True, exclusive=True, group="directory", exit_on_error=False)
    def load_directory(self) -> None:
        """Channels and operators for the filters and the assign dialog."""
        channels, operators = self.store.list_channels(), self.store.list_operators()
        self.app.call_from_thread(self._directory_loaded, channels, operators)

    def _directory_loaded(self, channels: list[Any], operators: list[OperatorRow]) -> None:
        self.channels, self.operators = channels, operators

    # ---- one place for store calls ----------------------------------------------------------
    @work(thread=True, group="store", exit_on_error=False)
    def store_call(self, call: Callable[[], T], done: Callable[[T], None] | None = None,
                   failed: Callable[[str], None] | None = None) -> None:
        """Run ``call`` off the event loop; ``done``/``failed`` run back on it.

        Every store error is a user-facing sentence: it is shown, nothing else happens
        (the store changed nothing). Anything else is a bug: logged and shown.
        """
        try:
            result = call()
        except SwitchboardError as err:
            self.app.call_from_thread(failed or self.show_error, str(err))
            return
        except Exception as err:  # noqa: BLE001 - a bug must not kill the console
            log.exception("store call failed")
            self.app.call_from_thread(failed or self.show_error,
                                      _("Unexpected error: {error}").format(error=err))
            return
        if done is not None:
            self.app.call_from_thread(done, result)

    def show_error(self, message: str) -> None:
        self.notify(message, severity="error", timeout=8)

    # ---- opening tasks ---------------------------------------------------------------------
    @on(TaskList.Selected, "#tasks")
    def _task_selected(self, event: TaskList.Selected) -> None:
        self.open_task(event.task)
        self.query_one(Composer).focus()

    @on(TaskList.MarksChanged, "#tasks")
    def _marks_changed(self, event: TaskList.MarksChanged) -> None:
        self.marks = frozenset(event.ids)
        self._update_filter_bar()
        self.refresh_bindings()

    @on(TaskList.Highlighted, "#tasks")
    def _task_highlighted(self, event: TaskList.Highlighted) -> None:
        self.refresh_bindings()

    def open_task(self, task: TaskRow, message_id: int | None = None) -> None:
        """Show ``task``'s thread, mark it read, point the composer and card at it."""
        changed = self.current is None or self.current.id != task.id
        self.current = task
        thread = self.query_one(ThreadView)
        if message_id is not None:
            thread.jump_to(message_id, task)
        elif changed:
            thread.show_task(task)
        if changed:
            self._bind_composer(task)
        self.query_one(TaskDataQuote).show(task)
        self.show_header(task)
        tasks = self.query_one(TaskList)
        tasks.mark_selected(task.id)
        tasks.select_task_id(task.id)  # the highlight follows what is open (a search jump)
        self._update_composer()
        if self.has_class("-card-open"):
            self.query_one(ContactCardView).show_contact(task.contact_id)
        if task.unread_count:
            self.store_call(lambda: self.store.mark_read(task.id))
        self.refresh_bindings()

    def open_task_id(self, task_id: int, message_id: int | None = None) -> None:
        """Open a task known only by id (search hit, contact card, write first)."""
        self.store_call(lambda: self.store.get_task(task_id),
                        lambda task: self.open_task(task, message_id))

    # ---- the composer belongs to one task ----------------------------------------------------
    def _bind_composer(self, task: TaskRow) -> None:
        """Keep what the composer holds as its task's draft, then write for ``task``."""
        composer = self.query_one(Composer)
        if composer.task_id is not None:
            self.drafts.changed(composer.task_id, composer.text, composer.private)
            self.drafts.flush()
        self.replies.task_opened(task.id)
        draft = self.drafts.cached(task.id)
        composer.bind(task.id, reply_target(self.store, task), *(draft or ("", False)))
        if draft is None:
            def loaded(found: tuple[str, bool]) -> None:
                if composer.task_id == task.id and not composer.text and found[0]:
                    composer.bind(task.id, composer.target, *found)
            self.drafts.load(task.id, loaded)

    @on(Composer.Changed, "#composer")
    def _composer_changed(self, event: Composer.Changed) -> None:
        composer = self.query_one(Composer)
        if composer.task_id is not None:
            self.drafts.changed(composer.task_id, composer.text, composer.private)

    def _composer_mode_changed(self, _private: bool) -> None:
        composer = self.query_one(Composer)
        if composer.task_id is not None and composer.text.strip():
            self.drafts.changed(composer.task_id, composer.text, composer.private)

    def _drafts_changed(self, ids: frozenset[int]) -> None:
        self.query_one(TaskList).drafts = ids

    def composer_block_reason(self, task: TaskRow | None) -> str:
        """Why the composer is read-only for ``task`` (empty: it is not)."""
        if task is None:
            return _("Open a task to write (Enter on the task list)")
        if task.merged_into_id is not None:
            return _("This task was merged into another; write there")
        return ""

    def _update_composer(self) -> None:
        self.query_one(Composer).blocked_reason = self.composer_block_reason(self.current)

    def _update_filter_bar(self) -> None:
        self.query_one("#filter-bar", Static).update(self.filter_bar_text())

    def filter_bar_text(self) -> str:
        text = _("Filter: {label}").format(label=self.choice.label())
        if self.marks:
            text += "  " + _("· {n} marked").format(n=len(self.marks))
        else:  # the filter keys stay out of the short footer: name them here
            text += "  " + _("· 1–5")
        return text

    # ---- composer --------------------------------------------------------------------------
    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        self.replies.submit(event)

    @on(Composer.QuickReplyRequested)
    def _quick_reply(self, event: Composer.QuickReplyRequested) -> None:
        composer, location = event.composer, event.location
        task_id = composer.task_id

        def chosen(text: str | None) -> None:
            if text is None:
                composer.focus()
            else:
                composer.insert_quick_reply(location, text)

        from widgets.quick_reply_picker import QuickReplyPicker  # imported when first opened

        self.app.push_screen(QuickReplyPicker(self.store, task_id, self.me.id, self.language),
                             chosen)

    # ---- thread ----------------------------------------------------------------------------
    @on(ThreadView.QuoteRequested)
    def _quote(self, event: ThreadView.QuoteRequested) -> None:
        self.quote_requested(event)

    @on(ThreadView.VersionsRequested)
    def _versions(self, event: ThreadView.VersionsRequested) -> None:
        self.versions_requested(event)

    @on(ThreadView.RetryRequested)
    def _retry(self, event: ThreadView.RetryRequested) -> None:
        self.retry_message(event.message.id)

    def retry_message(self, message_id: int) -> None:
        def retry() -> TaskRow:
            self.store.retry(message_id, self.me.id)
            return self.store.get_task(self.store.get_message(message_id).task_id)
        self.store_call(retry, lambda task: self.notify(
            _("Queued for sending again in task {task}.").format(task=task_named(task)),
            timeout=3))

    # ---- contact card ----------------------------------------------------------------------
    @on(ContactCardView.TaskChosen)
    def _card_task(self, event: ContactCardView.TaskChosen) -> None:
        self.open_task_id(event.task_id)

    @on(ContactCardView.WriteRequested)
    def _write_first(self, event: ContactCardView.WriteRequested) -> None:
        from console.screens.write_first import WriteFirstDialog

        card = self.query_one(ContactCardView).card
        name = card.contact.name if card else ""

        def written(message: Any) -> None:
            if message is not None:
                self.notify(_("Message to {client} queued for sending.").format(
                    client=one_line(name, 32)), timeout=3)
                self.open_task_id(message.task_id)

        self.app.push_screen(WriteFirstDialog(self.store, event.contact_id, name, event.option,
                                              self.me.id), written)

    # ---- live updates (console.screens.inbox_live) ------------------------------------------
    def on_store_changed(self, message: StoreChanged) -> None:
        self.live.apply(message)
        self.triage_changed(message)
        self.after_store_changed(message)

    def after_store_changed(self, message: StoreChanged) -> None:
        """Hook for subclasses (the supervisor's summary)."""
