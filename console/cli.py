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
from typing import Any

from console import startup
from console.config import Config, ConfigError, database_url, load_config
from storage.database_url import import_orm_for
from storage.errors import SwitchboardError
from storage.i18n import _, set_language

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


def add_global_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """``--config`` and ``--db``; on subcommands too, so ``switchboard demo --db X`` works.

    On a subcommand the default is SUPPRESS: an option given before the command is not
    overwritten by the subcommand's default."""
    default = argparse.SUPPRESS if suppress else None
    if "--config" not in parser._option_string_actions:
        parser.add_argument("--config", type=Path, metavar="PATH", default=default,
                            help=_("the configuration file (default: config.yaml in the user "
                                   "configuration directory)"))
    if "--db" not in parser._option_string_actions:
        parser.add_argument("--db", metavar="URL", default=default,
                            help=_("the database: a file path, sqlite:///path or "
                                   "postgresql://… (overrides the configuration file)"))


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
    args = _bare_console_args(arguments)  # the console loads the config once, in run_console
    if args is None:
        _language_for_help(arguments)
        args = build_parser().parse_args(arguments)
    func = getattr(args, "func", run_console)
    if func is not run_console:
        startup.resume()  # only the console's start-up runs without the collector
    try:
        return int(func(args) or 0)
    except ConfigError as err:
        print(_("Configuration error: {error}").format(error=err), file=sys.stderr)
        return 1
    except SwitchboardError as err:
        print(_("Error: {error}").format(error=err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _bare_console_args(argv: list[str]) -> argparse.Namespace | None:
    """The options of a bare ``switchboard`` (the console, global options only), parsed
    without importing any subcommand module; None for anything else (a command, --help,
    an unknown or incomplete option), which the full parser handles and reports."""
    bare = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_global_options(bare)
    try:
        args, rest = bare.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    return None if rest else args


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
    for warning in config.warnings:
        print(_("Warning: {warning}").format(warning=warning), file=sys.stderr)
    return config


def run_console(args: argparse.Namespace) -> int:
    """The bare ``switchboard``: open the console on the configured database.

    The ORM is imported once the database is known: on SQLite without the PostgreSQL
    driver peewee would load at its import (issue 20: nothing the first frame does not
    need before it)."""
    config = load(args)
    import_orm_for(database_url(config, args.db))
    from console.bootstrap import open_store

    store = open_store(config, args.db)
    try:
        return launch_console(store, config)
    finally:
        store.close()


def launch_console(store: Any, config: Config) -> int:
    """Run the Textual console on an open store until the operator quits.

    The channels' addresses (e.g. the web chat URL) are shown in the console when the
    channels come up, and printed again here once the screen gives the terminal back."""
    app = make_console(store, config)
    app.run()
    for address in app.gateway_addresses:  # already sentences ("Web chat: http://…")
        print(address)
    return int(app.return_code or 0)


def make_console(store: Any, config: Config) -> Any:
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
                          gateway_factory=gateway_factory(store, config))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
