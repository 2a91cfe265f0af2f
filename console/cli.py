"""The ``switchboard`` command: global options, subcommands, and opening the console.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds
a parser and sets ``func(args) -> int`` on it. ``args.config`` (a Path or None) and
``args.db`` (a URL or None) are the global options every command honours.

Heavy imports (Textual, aiohttp, the gateway) happen inside the functions that need
them, so ``--help`` and ``config check`` start fast and work without a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console import startup
from console.cli_options import add_global_options, bare_console_args
from console.config import Config, ConfigError, database_url, load_config
from storage.database_url import import_orm_for
from storage.errors import SwitchboardError
from storage.i18n import _, set_language

if TYPE_CHECKING:
    from console.launch import Loaded

# Subcommand modules, in the order --help lists them. A module that does not exist
# yet (another engineer's) is left out; an import error inside one is not hidden.
SUBCOMMANDS = (
    "console.cmd_demo",
    "console.cmd_serve",
    "console.cmd_search",
    "console.cmd_quick_replies",
    "console.cmd_config",
    "console.cmd_task",
    "console.cmd_rules",
    "console.cmd_operator",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description=_("Switchboard: a keyboard-driven console where a support team talks "
                      "with clients across messengers. Without a command it opens the console."),
        epilog=_("Run 'switchboard COMMAND --help' for a command's options."),
    )
    add_global_options(parser)
    subparsers = parser.add_subparsers(title=_("commands"), metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = _import_optional(name)
        if module is not None:
            module.register(subparsers)
    for sub in _all_subparsers(parser):
        add_global_options(sub, suppress=True)
    return parser


def _all_subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found.append(sub)
                found.extend(_all_subparsers(sub))
    return found


def _import_optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name == name:
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``switchboard`` script; returns the exit status."""
    arguments = list(argv) if argv is not None else sys.argv[1:]
    args = bare_console_args(arguments)  # the console loads the config once, in run_console
    if args is None:
        _language_for_help(arguments)
        args = build_parser().parse_args(arguments)
    func = getattr(args, "func", run_console)
    if func is not run_console:
        startup.resume()  # only the console's start-up runs without the collector
    try:
        return int(func(args) or 0)
    except (ConfigError, SwitchboardError, KeyboardInterrupt) as err:
        return report(err)


def report(error: BaseException) -> int:
    """Print why a command could not run; returns its exit status. Anything but the
    config's, the store's and an interrupt is a bug, raised again."""
    if isinstance(error, ConfigError):
        print(_("Configuration error: {error}").format(error=error), file=sys.stderr)
        return 1
    if isinstance(error, SwitchboardError):
        print(_("Error: {error}").format(error=error), file=sys.stderr)
        return 1
    if isinstance(error, KeyboardInterrupt):
        return 130
    raise error


def _language_for_help(argv: list[str]) -> None:
    """Set the config file's language before the parser is built, so ``--help`` speaks
    it too. Quietly does nothing when the file is missing or broken: the command
    itself reports that properly."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path, default=None)
    known, _rest = pre.parse_known_args(argv)
    try:
        set_language(load_config(known.config).language)
    except (ConfigError, OSError):
        pass


def load(args: argparse.Namespace) -> Config:
    """The validated config for this run, with its warnings printed to stderr."""
    config = load_config(args.config)
    set_language(config.language)
    print_warnings(config)
    return config


def print_warnings(config: Config) -> None:
    for warning in config.warnings:
        print(_("Warning: {warning}").format(warning=warning), file=sys.stderr)


def run_console(args: argparse.Namespace) -> int:
    """The bare ``switchboard``: open the console on the configured database.

    (A start with a valid launch record draws its first frame before this runs:
    :mod:`console.launch`.)"""
    loaded = load_console(args)
    from console.launch import remembering

    try:
        return launch_console(loaded.store, loaded.config, remember=remembering(args))
    finally:
        loaded.store.close()


def load_console(args: argparse.Namespace, launched: bool = False) -> Loaded:
    """The validated config, the open store, the operator and the gateway's factory.

    ``launched``: the console's screen is already up (:mod:`console.launch`), so the
    config's warnings are not printed now: the console shows them, and prints them
    once it closes.

    The ORM is imported once the database is known: on SQLite without the PostgreSQL
    driver peewee would load at its import (issue 20: nothing the first frame does not
    need before it)."""
    config = load_config(args.config)
    set_language(config.language)
    if not launched:
        print_warnings(config)
    import_orm_for(database_url(config, args.db))
    from console.bootstrap import current_operator, gateway_factory, open_store
    from console.launch import Loaded

    store = open_store(config, args.db)
    try:
        return Loaded(store, config, current_operator(store, config),
                      gateway_factory(store, config))
    except BaseException:
        store.close()
        raise


def launch_console(store: Any, config: Config, remember: Any = None) -> int:
    """Run the Textual console on an open store until the operator quits.

    ``remember`` (:func:`console.launch.remembering`) writes the launch record once the
    first rows are on screen."""
    app = make_console(store, config, remember)
    app.run()
    return finish_console(app)


def finish_console(app: Any) -> int:
    """After the console's screen is gone: why a launch could not load, or the channels'
    addresses (e.g. the web chat URL, printed in the console when the channels come up)
    and the exit status."""
    if app.launch_error is not None:
        return report(app.launch_error)
    if app.launched:  # a plain start printed them before the screen opened
        print_warnings(app.config)
    for address in app.gateway_addresses:  # already sentences ("Web chat: http://…")
        print(address)
    return int(app.return_code or 0)


def make_console(store: Any, config: Config, remember: Any = None) -> Any:
    """The console app for this store, with its gateway when the connectors run in-process.

    With SQLite the connectors run in this process (one person, one machine): the app
    builds the gateway (aiohttp, the connectors, the rules, the port) and starts it once
    the first task rows are on screen. With PostgreSQL a team runs ``switchboard serve``
    once and every console only reads and writes the shared database, so there is no
    gateway.
    """
    from console.app import SwitchboardApp
    from console.bootstrap import current_operator, gateway_factory

    operator = current_operator(store, config)
    return SwitchboardApp(store=store, config=config, operator=operator,
                          gateway_factory=gateway_factory(store, config), remember=remember)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
