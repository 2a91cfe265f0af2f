"""The options every ``switchboard`` command takes, and a bare console's arguments.

Its own module, importing nothing heavy: the console's first frame (:mod:`console.launch`)
reads a bare ``switchboard``'s options before the config's validator is imported."""

from __future__ import annotations

import argparse
from pathlib import Path

from storage.i18n import _


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


def bare_console_args(argv: list[str]) -> argparse.Namespace | None:
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
