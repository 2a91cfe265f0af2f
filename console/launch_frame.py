"""The console's first frame: the inbox's task list, before the config and the store load.

Drawn from the launch record (:mod:`console.launch_record`) and the first tasks read
from the file (:mod:`storage.launch_page`), with the inbox's own widgets in the inbox's
places: the filter bar, the real :class:`~widgets.task_list.TaskList`, an empty
conversation pane, the status bar and the footer's line. The app composes it on its
own first screen, as Textual's quickest first frame does (a pushed screen costs one
more compose and restyle), pushes the inbox over it once the store is loaded
(:mod:`console.launch`) and removes it. Until then it only shows: the app holds every
key typed meanwhile and hands them to the inbox, in order.

Only light modules are imported here: this frame is what the operator waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from storage.errors import NotFound
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.rows import Page, TaskRow
from widgets.status_bar import StatusBar
from widgets.task_list import TaskList


class LaunchTasks:
    """The task list's source on the first frame: the tasks read at start, one page."""

    def __init__(self, tasks: tuple[TaskRow, ...]) -> None:
        self.tasks = tasks

    def list_tasks(self, f: TaskFilter | None = None, after: tuple[int, int] | None = None,
                   limit: int = 50) -> Page[TaskRow]:
        return Page(self.tasks[:limit] if after is None else ())

    def get_task(self, task_id: int) -> TaskRow:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise NotFound(_("Task {id} does not exist.").format(id=task_id))


class LaunchFrame(Vertical):
    """The inbox's layout with the first tasks, shown while the console loads."""

    DEFAULT_CSS = """
    LaunchFrame { background: $background; }
    LaunchFrame #body { height: 1fr; }
    LaunchFrame #left { width: 38%; min-width: 40; max-width: 64; border-right: vkey $panel; }
    LaunchFrame.-narrow #left { width: 34%; min-width: 30; max-width: 36; }
    LaunchFrame #filter-bar { height: 1; padding: 0 1; background: $boost; color: $text; text-style: bold; }
    LaunchFrame #tasks { height: 1fr; }
    LaunchFrame #centre { width: 1fr; }
    LaunchFrame StatusBar { dock: none; }
    LaunchFrame #footer-line { height: 1; background: $panel; }
    """

    def __init__(self, tasks: tuple[TaskRow, ...], *, filter_label: str,
                 channel_tags: dict[str, str], operator: str, role: str, connection: str,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.tasks = tasks
        self.filter_label = filter_label
        self.channel_tags = channel_tags
        self.operator, self.role, self.connection = operator, role, connection
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Static(self.filter_label, id="filter-bar", markup=False)
                tasks = TaskList(LaunchTasks(self.tasks), id="tasks", clock=self.clock,
                                 channel_tags=self.channel_tags)
                tasks.show_meanwhile(self.tasks)  # in the very first frame, not a page later
                yield tasks
            yield Vertical(id="centre")
        yield StatusBar(id="status")
        yield Static("", id="footer-line", markup=False)

    def on_mount(self) -> None:
        status = self.query_one(StatusBar)
        status.operator, status.role = self.operator, self.role
        status.connection = self.connection
        self.query_one(TaskList).focus()
