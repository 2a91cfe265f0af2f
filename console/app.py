"""The Switchboard application: wiring only.

It registers the themes (and restores the persisted choice), applies the config's
key map, bridges store events into the UI, forwards channel health from the gateway
to the status bar, and pushes the inbox (or, for a supervisor, the supervisor view).
Everything an operator does lives in the screens.

Keys typed while the focus moves (Enter on a task, ``*`` for the quick replies) are
held and handed out, in typing order, where the focus lands (:mod:`widgets.typeahead`).

The channels (:mod:`console.console_channels`: the gateway, given built or as a factory)
are brought up once the first task rows are on screen, never before; their health
goes to the status bar, their addresses (e.g. the web chat URL) to a notice.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.message import Message
from textual.screen import Screen

from console import startup
from console.commands import SwitchboardCommands
from console.console_channels import ConsoleChannels
from console.keymap import APP_BINDINGS, check_keymap, usable_keymap
from console.themes import SHIPPED, STATE_KEY, initial_theme, load_themes, register
from storage.constants import SUPERVISOR
from storage.errors import SwitchboardError
from storage.i18n import _, set_language
from storage.rows import OperatorRow
from widgets.status_bar import StatusBar
from widgets.task_list import TaskList
from widgets.typeahead import TypeAhead, moves_focus

if TYPE_CHECKING:
    from console.launch import Launch, Loaded
    from console.screens.inbox import InboxScreen
    from storage.store import Store

# The modules above are what the first frame needs (console.launch draws it before the
# config and the store are loaded); the inbox, the events bridge, presence and the
# notifier are imported once the store is there (_attach).

# With no task row to wait for (an empty inbox), start-up ends this long after mount.
STARTED_AT_LATEST = 1.0


class HealthChanged(Message):
    """A channel's health changed (posted from the gateway's thread or loop)."""

    def __init__(self, name: str, state: str, detail: str) -> None:
        super().__init__()
        self.name, self.state, self.detail = name, state, detail


class PresenceChanged(Message):
    """Who is in which task changed (posted from the presence tracker's thread)."""


class SwitchboardApp(App[None]):
    TITLE = "Switchboard"
    CSS_PATH = str(Path(__file__).with_name("switchboard.tcss"))
    COMMANDS = App.COMMANDS | {SwitchboardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = APP_BINDINGS  # console.keymap: the reference reads the same table

    def action_command_palette(self) -> None:
        """The command palette, with a translated prompt."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder=_("Search for commands…")))

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice is plain text: notices name clients and quote their words, and a
        name like ``[/x]`` must neither style a toast nor break it (Textual parses
        markup by default, and ``Screen.notify`` passes that default on)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own palette commands, with translated titles and help."""
        yield SystemCommand(_("Quit"), _("Quit Switchboard."), self.action_quit)
        yield SystemCommand(_("Keys"), _("Show or hide the keys of the focused pane."),
                            self.action_hide_help_panel if screen.query("HelpPanel")
                            else self.action_show_help_panel)
        if screen.maximized is not None:
            yield SystemCommand(_("Minimize"), _("Restore the maximized pane."),
                                screen.action_minimize)
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(_("Maximize"), _("Maximize the focused pane."),
                                screen.action_maximize)
        yield SystemCommand(_("Screenshot"), _("Save an SVG screenshot of the screen."),
                            lambda: self.set_timer(0.1, self.deliver_screenshot))

    def __init__(self, store: Store | None = None, config: Any = None,
                 operator: OperatorRow | None = None, gateway: Any = None,
                 *, gateway_factory: Callable[[], Any] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 launch: Launch | None = None,
                 remember: Callable[[SwitchboardApp], None] | None = None) -> None:
        """A console on an open ``store``; or, with ``launch`` (:mod:`console.launch`),
        one that composes the launch record's first frame and loads the store after it.

        ``remember`` is called (in a thread) once the first rows are on screen: the CLI
        writes the launch record for the next start there."""
        super().__init__()
        # The channels: a built gateway, or a factory that builds one (in a thread, after
        # the first rows are shown). ``gateway`` stays None until it is built.
        self.channels = ConsoleChannels(gateway, gateway_factory)
        self._started = False
        self.clock = clock
        # Times in the conversation: None shows the machine's local zone (tests pin UTC).
        self.timezone: tzinfo | None = None
        self.health: dict[str, tuple[str, str]] = {}
        # Keys typed while the focus moves wait here (see widgets.typeahead).
        self.typeahead = TypeAhead(self._deliver_key, self.set_timer)
        self.launch = launch
        self.launched = launch is not None  # started from a launch record
        self.launch_error: BaseException | None = None  # why a launch could not load
        self.remember = remember
        self._launch_keys: list[events.Key] = []  # typed on the first frame, for the inbox
        self.inbox_start: InboxScreen | None = None  # the inbox as it first opened
        if launch is not None:
            record = launch.record
            self.store, self.config, self.operator = None, None, None  # type: ignore[assignment]
            self.user_keys: dict[str, str] = dict(record.keys)
            set_language(record.language)
            self.shipped_themes = launch.register_theme(self)
            return
        assert store is not None and operator is not None, "a console needs a store and an operator"
        # Read before the event loop runs (the constructor is called by the CLI first).
        self._attach(store, config, operator, *self.read_looks(store))

    @staticmethod
    def read_looks(store: Store) -> tuple[list[Any], str | None]:
        """The shipped themes (their files) and the persisted choice (the store): I/O,
        read before the event loop runs, or in a launch's loading thread."""
        return load_themes(), store.get_state(STATE_KEY)

    def _attach(self, store: Store, config: Any, operator: OperatorRow, themes: list[Any],
                saved_theme: str | None) -> None:
        """Everything the console does on its store: on a plain start before the event
        loop runs, on a launch once loaded; ``themes`` and ``saved_theme`` are
        :meth:`read_looks`' (no I/O here: on a launch this runs on the event loop)."""
        from console.events_bridge import EventsBridge
        from console.notify import Notifier, NotifySettings
        from storage.presence import PresenceAnnouncer, PresenceTracker

        self.store = store
        self.config = config
        self.operator = operator
        self.user_keys = dict(getattr(config, "keys", {}) or {})
        self.shipped_themes = register(self, themes)
        set_language(getattr(config, "language", None))
        # The persisted choice wins over the config's first-start default.
        self.theme = initial_theme(saved_theme, getattr(config, "theme", None),
                                   list(self.available_themes))
        self._saved_theme = self.theme
        self.bridge = EventsBridge(store.bus, self.post_message)
        # Presence (storage.presence): this console announces the open task and typing
        # (the composer calls ``presence_announcer.typing``); the tracker shows others.
        self.presence_announcer = PresenceAnnouncer(store, operator.id, operator.name)
        self.presence_tracker = PresenceTracker(
            store, on_change=lambda: self.post_message(PresenceChanged()))
        self.notifier = Notifier(
            NotifySettings.from_config(getattr(config, "notifications", None)), operator.id,
            self.write_terminal, self.clock or (lambda: datetime.now().astimezone()))

    # ---- keys typed while the focus moves ------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
        elif self.launch is not None and self._quits(event):
            self.exit()  # a load that hangs must not keep the operator in
        elif self.launch is not None or self._launch_keys:
            self._launch_keys.append(event)  # the first frame only shows: the inbox gets them
        else:
            await self._take_key(event)

    def _quits(self, event: events.Key) -> bool:
        """Whether ``event`` is the app's quit key (``ctrl+q``, or as the config maps it)."""
        active = self.active_bindings.get(event.key)
        return active is not None and active.binding.action == "quit"

    async def _take_key(self, event: events.Key) -> None:
        if not self.typeahead.take(event):
            await self._deliver_key(event)

    async def _deliver_key(self, event: events.Key) -> None:
        """Hand a key out (bindings, then the focused widget); hold what follows if the
        focused widget will move the focus on it. Kept keys come back through here too.

        Asked before the key is handed out: once handed out, the keys typed after it
        would already be on their way to this widget."""
        focused = self.focused
        binding_id = None
        if focused is not None and hasattr(focused, "moves_focus"):
            active = self.active_bindings.get(event.key)
            binding_id = active.binding.id if active is not None and active.enabled else None
        await super().on_event(event)
        if focused is not None and moves_focus(focused, event, binding_id):
            self.typeahead.hold(focused, event)

    async def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self._screen_stack:  # a focus event late for an app closing has no screen
            await self.typeahead.focus_moved(self.focused)

    # ---- start and stop --------------------------------------------------------------------
    def on_mount(self) -> None:
        # The config's keys apply at once (an id no binding has matches nothing); checking
        # the ids imports every screen and widget module (console.keymap.known_ids), so
        # it waits for the first frame, and only a config with keys pays for it.
        self._apply_keys()
        if self.launch is not None:  # the first frame is composed (compose)
            self.call_after_refresh(self._load)  # after it
            return
        self._start()

    def compose(self) -> Any:
        if self.launch is not None:
            yield self.launch.frame(self)

    def _start(self, launch: Launch | None = None) -> Any:
        """The console on its store: the inbox (in place of ``launch``'s first frame, with
        its rows meanwhile; the result awaits it), the bridge, presence, the channels."""
        if self.user_keys:
            self.call_after_refresh(self._check_keymap)
        self.bridge.start()
        self.presence_tracker.start()
        self.presence_announcer.start()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        screen = self.main_screen()
        if launch is not None and screen.start_filter == launch.record.task_filter:
            screen.meanwhile = launch.tasks
        shown = self.push_screen(screen)
        self.mark_available(None)
        self.channels.listen(self._health_from_any_thread)
        self.set_timer(STARTED_AT_LATEST, self._first_rows_shown)
        return shown

    # ---- a launch: the store loads after the first frame (console.launch) ------------------
    @work(thread=True, group="launch", exit_on_error=False)
    def _load(self) -> None:
        """Validate the config and open the store, off the event loop."""
        assert self.launch is not None
        try:
            loaded = self.launch.load()
            looks = self.read_looks(loaded.store)
        except BaseException as err:  # noqa: BLE001 - reported by the CLI once the screen is gone
            self.call_from_thread(self._launch_failed, err)
            return
        try:
            self.call_from_thread(self._loaded, loaded, looks)
        except RuntimeError:  # the operator quit while it loaded: nobody will close it
            loaded.store.close()

    def _launch_failed(self, error: BaseException) -> None:
        self.launch_error = error
        self.exit(return_code=1)

    async def _loaded(self, loaded: Loaded, looks: tuple[list[Any], str | None]) -> None:
        """The store is there: the inbox replaces the first frame, and gets the keys."""
        if self._exit:  # the operator quit while it loaded
            loaded.store.close()
            return
        self.channels = ConsoleChannels(None, loaded.gateway_factory)
        self._attach(loaded.store, loaded.config, loaded.operator, *looks)
        self._apply_keys()
        launch, self.launch = self.launch, None
        for warning in getattr(loaded.config, "warnings", ()):
            self.notify(warning, title=_("Config"), severity="warning", timeout=10)
        await self._start(launch)
        for frame in self.screen_stack[0].query("LaunchFrame"):  # under the inbox now
            await frame.remove()

    async def _hand_over_keys(self) -> None:
        """The keys typed on the first frame, in order, once the inbox shows its rows."""
        while self._launch_keys:  # keys typed meanwhile join the end: the order holds
            await self._take_key(self._launch_keys.pop(0))

    def _apply_keys(self) -> None:
        self.set_keymap({k: v for k, v in self.user_keys.items() if v.strip()})

    def _check_keymap(self) -> None:
        self.set_keymap(usable_keymap(self.user_keys))
        for problem in check_keymap(self.user_keys):
            self.notify(problem, title=_("Config"), severity="warning", timeout=10)

    def main_screen(self) -> InboxScreen:
        """The inbox, or the supervisor view for a supervisor.

        Quick replies of every language are offered (``language=None``): an operator
        answering a client in another language needs them, and each shows its language.
        """
        from console.screens.inbox import InboxScreen

        if self.operator.role == SUPERVISOR:
            from console.screens.supervisor import SupervisorScreen  # not for an operator

            screen: InboxScreen = SupervisorScreen(self.store, self.operator,
                                                   keys=self.user_keys, clock=self.clock)
        else:
            screen = InboxScreen(self.store, self.operator, keys=self.user_keys)
        self.inbox_start = screen
        # The width's class (-narrow, -wide) from the start: set by the screen's first
        # resize instead, it restyled every widget once more before the first rows.
        for threshold, name in sorted(self.HORIZONTAL_BREAKPOINTS, reverse=True):
            if self.size.width >= threshold:
                screen.add_class(name)
                break
        return screen

    @property
    def runs_gateway(self) -> bool:
        """Whether this console runs the channels (a gateway given, or one to build)."""
        return self.channels.runs

    @property
    def gateway(self) -> Any:
        """The running gateway; None until it is built (or when the console runs none)."""
        return self.channels.gateway

    @property
    def gateway_addresses(self) -> list[str]:
        return self.channels.addresses

    @property
    def connection_label(self) -> str:
        database = _("PostgreSQL") if self.store.postgres else _("SQLite")
        channels = _("channels on") if self.runs_gateway else _("channels off")
        return f"{database} · {channels}"

    # ---- the channels, after the first rows ----------------------------------------------
    @on(TaskList.Highlighted)
    def _rows_shown(self, event: TaskList.Highlighted) -> None:
        """The first page of the task list arrived (its first row is highlighted)."""
        self._first_rows_shown()

    def _first_rows_shown(self) -> None:
        """Once, after the frame that shows the first rows: start-up is over, so the
        garbage collector resumes (:mod:`console.startup`) and the channels come up."""
        if self._started or self.launch is not None:  # the inbox's rows, not the first frame's
            return
        self._started = True
        if self._launch_keys:
            self.call_later(self._hand_over_keys)
        self.call_after_refresh(self._after_start)

    def _after_start(self) -> None:
        startup.resume()
        if self.runs_gateway:
            self.start_gateway()
        if self.remember is not None:
            self.remember_start()

    @work(thread=True, group="remember", exit_on_error=False)
    def remember_start(self) -> None:
        """Hand this start to ``remember`` (the CLI writes the launch record)."""
        assert self.remember is not None
        self.remember(self)

    @work(exclusive=True, group="gateway", exit_on_error=False)
    async def start_gateway(self) -> None:
        """Build the gateway (in a thread: imports, rules, the port) and start it here."""
        await self.channels.start(self.notify)

    async def on_unmount(self) -> None:
        if self.store is None:  # a launch that never loaded its store
            return
        self.bridge.stop()
        await asyncio.to_thread(self.presence_announcer.close)
        await asyncio.to_thread(self.presence_tracker.stop)
        await self.channels.stop()

    # ---- events from other threads ---------------------------------------------------------
    def on_wakeup(self) -> None:
        """Store events arrived (``console.events_bridge.Wakeup``)."""
        from console.events_bridge import StoreChanged
        from console.screens.inbox import InboxScreen
        from storage.availability import OPERATOR_AVAILABILITY

        # Presence events carry no data change: the tracker handles them, screens do not.
        events = tuple(e for e in self.bridge.drain() if not e.kind.startswith("presence"))
        mine = [e for e in events if e.kind == OPERATOR_AVAILABILITY
                and e.data.get("operator_id") == self.operator.id]
        if mine:
            self._show_available(bool(mine[-1].data.get("available")))
        if not events:
            return
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.post_message(StoreChanged(events))

    @on(PresenceChanged)
    def _presence(self) -> None:
        from console.screens.inbox import InboxScreen

        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen) and screen.is_mounted:
                screen.presence_changed()

    def write_terminal(self, data: str) -> None:
        """Write an escape sequence (bell, desktop notification, window title) to the
        terminal through the driver, between frames."""
        driver = self._driver
        if driver is not None:
            driver.write(data)
            driver.flush()

    def _health_from_any_thread(self, name: str, state: str, detail: str) -> None:
        self.post_message(HealthChanged(name, state, detail))

    @on(HealthChanged)
    def _health(self, message: HealthChanged) -> None:
        self.health[message.name] = (message.state, message.detail)
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.set_health(message.name, message.state, message.detail)

    def inbox(self) -> InboxScreen | None:
        from console.screens.inbox import InboxScreen

        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                return screen
        return None

    # ---- app-wide actions ------------------------------------------------------------------
    def action_help(self) -> None:
        from console.screens.help import HelpScreen  # its DataTable is not needed at start

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.user_keys))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            return True if search_available() else None
        return True

    def action_search(self) -> None:
        if not search_available():
            return
        from console.screens.search import SearchScreen  # type: ignore[import-not-found]

        restrict = bool(getattr(getattr(self.config, "search", None), "operators_see_only_own",
                                False)) and self.operator.role != SUPERVISOR

        def found(result: Any) -> None:
            inbox = self.inbox()
            if result is not None and inbox is not None:
                inbox.open_task_id(result.task_id, getattr(result, "message_id", None))

        self.push_screen(SearchScreen(self.store, self.operator, restrict), found)

    def action_next_theme(self) -> None:
        names = list(self.shipped_themes)
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]

    # ---- available / away (storage.availability; auto-assignment reads it) ---------------
    operator_available: bool | None = None  # None until read at start

    def action_toggle_available(self) -> None:
        self.mark_available(not self.operator_available)

    @work(thread=True, group="availability", exit_on_error=False)
    def mark_available(self, available: bool | None) -> None:
        """Mark this operator available or away (None: only read it)."""
        from storage.availability import is_available, set_available

        try:
            if available is None:
                value = is_available(self.store, self.operator.id)
            else:
                value = set_available(self.store, self.operator.id, available).available
        except SwitchboardError as err:
            self.call_from_thread(self.notify, str(err), severity="error")
            return
        self.call_from_thread(self._show_available, value, available is not None)

    def _show_available(self, value: bool, say: bool = False) -> None:
        self.operator_available = value
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.available = value
        if say:
            self.notify(_("You are available: auto-assignment gives you new tasks.") if value
                        else _("You are away: auto-assignment gives you no new tasks."))

    def _theme_changed(self, theme: Any) -> None:
        """Persist a changed theme (from a key, the palette or Textual's theme picker)."""
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            self.save_theme(theme.name)

    @work(thread=True, group="save-theme", exit_on_error=False)
    def save_theme(self, theme: str) -> None:
        self.store.set_state(STATE_KEY, theme)
        if self.remember is not None and self._started:
            self.remember(self)  # the next start's first frame in this theme


def search_available() -> bool:
    return importlib.util.find_spec("console.screens.search") is not None


__all__ = ["SwitchboardApp", "SHIPPED"]
