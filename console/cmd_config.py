"""``switchboard config check``: validate the configuration without starting anything.

Nothing is opened or created — no database, no server — so the command is safe to
run on a production machine and in CI. It prints warnings (a file other users can
read) and a short summary, and exits 0 when the file is valid, 1 when it is not.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.config import default_config_path, describe_database, load_config
from storage.i18n import _


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config", help=_("check the configuration file"),
        description=_("Work with the configuration file."))
    actions = parser.add_subparsers(title=_("actions"), metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help=_("validate the configuration without starting anything"),
        description=_("Validate the configuration file: every error names the file, the line "
                      "and the key. Exits 0 when it is valid, 1 when it is not."))
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Exit status 0: valid. ConfigError propagates to ``main``, which prints it and exits 1."""
    config = load_config(args.config)
    for warning in config.warnings:
        print(_("Warning: {warning}").format(warning=warning), file=sys.stderr)
    source = config.path or _("{path} (missing: defaults used)").format(path=default_config_path())
    print(_("Configuration is valid: {path}").format(path=source))
    print(_("  operator: {name} ({role})").format(name=config.operator.name,
                                                  role=config.operator.role))
    print(_("  database: {db}").format(db=describe_database(config, args.db)))
    for channel in config.channels:
        print(_("  channel: {name} ({kind})").format(name=channel.name, kind=channel.kind))
    return 0
