"""Starting the console with its first frame before the config and the store (issue 20).

A plain start validates the config (pydantic), loads the ORM and opens the store
before Textual draws anything: ~0.5 s of a ~1.2 s start (bench/PROFILE.md §12–§13).
When the launch record of the last start is valid (:mod:`console.launch_record`):

1. the first tasks are read from the SQLite file with no ORM (:mod:`storage.launch_page`);
2. the app starts with :class:`~console.launch_frame.LaunchFrame`: the inbox's layout
   with the real task list, drawn in the record's language and theme;
3. after that frame, a thread validates the config and opens the store exactly as a
   plain start does (:func:`console.cli.load_console`); the inbox then replaces the
   first frame and gets every key typed meanwhile, in order (``SwitchboardApp``);
4. a config that no longer validates, or a store that does not open, ends the console
   with the same message a plain start prints, and the record is forgotten; the
   config's warnings are shown in the console and printed when it closes.

With no valid record (the first start, an edited config, PostgreSQL, another schema)
the start is the plain one. Every start that reaches its first rows writes the record
for the next (:func:`remember`).

Only light modules are imported before the first frame: this one, the record, the
first tasks' reader, Textual and the app's shell.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.cli_options import bare_console_args
from console.launch_record import (
    LaunchRecord,
    forget_record,
    launch_key,
    read_record,
    write_record,
)
from storage.inputs import TaskFilter
from storage.launch_page import read_first_tasks
from storage.rows import OperatorRow, TaskRow
from widgets.task_list import PAGE_SIZE

if TYPE_CHECKING:
    from console.app import SwitchboardApp
    from console.launch_frame import LaunchFrame
    from storage.store import Store


@dataclass(frozen=True)
class Loaded:
    """What a console needs beyond its first frame: loaded by :func:`console.cli.load_console`."""

    store: Store
    config: Any
    operator: OperatorRow
    gateway_factory: Callable[[], Any] | None


@dataclass(frozen=True)
class Launch:
    """A start from a launch record: the record, the first tasks, and what loads the rest."""

    record: LaunchRecord
    tasks: tuple[TaskRow, ...]
    load: Callable[[], Loaded]

    def frame(self, app: SwitchboardApp) -> LaunchFrame:
        from console.launch_frame import LaunchFrame

        record = self.record
        frame = LaunchFrame(self.tasks, filter_label=record.filter_label,
                            channel_tags=record.channel_tags, operator=record.operator,
                            role=record.role, connection=record.connection, clock=app.clock)
        for threshold, name in sorted(app.HORIZONTAL_BREAKPOINTS, reverse=True):
            if app.size.width >= threshold:  # the inbox's width class, as main_screen does
                frame.add_class(name)
                break
        return frame

    def register_theme(self, app: SwitchboardApp) -> list[str]:
        """The record's theme, registered and chosen; returns the names registered."""
        from console.themes import theme_from_mapping

        record = self.record
        names = []
        if record.theme is not None:
            theme = theme_from_mapping(record.theme, "launch record")
            app.register_theme(theme)
            names.append(theme.name)
        if record.theme_name in app.available_themes:
            app.theme = record.theme_name
        return names


def try_launch(argv: Sequence[str]) -> int | None:
    """Run the console from its launch record; None when there is no valid one (the
    caller then starts the plain way). Returns the exit status."""
    args = bare_console_args(list(argv))
    if args is None:
        return None
    record = read_record(args.config, args.db)
    if record is None:
        return None
    tasks = read_first_tasks(record.database, record.schema_version, record.statements,
                             record.task_filter, PAGE_SIZE)
    if tasks is None:
        return None
    from console.app import SwitchboardApp

    def load() -> Loaded:
        from console.cli import load_console

        return load_console(args, launched=True)

    app = SwitchboardApp(launch=Launch(record, tasks, load), remember=remembering(args))
    try:
        app.run()
    finally:
        if app.store is not None:
            app.store.close()
    from console.cli import finish_console

    if app.launch_error is not None:
        forget_record(args.config, args.db)
    return finish_console(app)


def remembering(args: argparse.Namespace) -> Callable[[SwitchboardApp], None]:
    """What writes the launch record of a console started with these options."""
    return partial(remember, args.config, args.db)


def remember(config_path: Path | None, db_option: str | None, app: SwitchboardApp) -> None:
    """Write the launch record of this console's start, or remove a stale one when it
    cannot start that way (PostgreSQL, an in-memory database)."""
    from console.bootstrap import sqlite_file

    store, config, inbox = app.store, app.config, app.inbox_start
    database = sqlite_file(store) if store is not None else None
    if database is None or inbox is None:
        forget_record(config_path, db_option)
        return
    theme = app.get_theme(app.theme)
    record = LaunchRecord(
        key=launch_key(config_path, db_option),
        database=str(Path(database).resolve()),
        schema_version=store.schema_version,
        statements=store.launch_statements(),
        task_filter=inbox.start_filter or TaskFilter(),  # None lists every task
        filter_label=inbox.start_filter_text,
        language=getattr(config, "language", None),
        theme=_theme_fields(theme) if app.theme in app.shipped_themes else None,
        theme_name=app.theme,
        keys=dict(app.user_keys),
        channel_tags=inbox.channel_tags(),
        operator=app.operator.name,
        role=app.operator.role,
        connection=app.connection_label,
    )
    write_record(config_path, db_option, record)


def _theme_fields(theme: Any) -> dict[str, Any] | None:
    if theme is None:
        return None
    return {k: v for k, v in asdict(theme).items() if v is not None}
