"""``switchboard rules check|test|defaults``: the automation rules file from the shell.

* ``rules check [FILE]`` validates the file and names the first error's line and
  column (exit status 1), or says how many rules it holds.
* ``rules test TASK`` is a dry run: for the task with that number, which rules would
  act now and why or why not, then which rules already acted on it (the firing log).
  Nothing is written.
* ``rules defaults`` prints the shipped default rules, a starting point to copy.

The file is FILE / ``--rules FILE``, else ``$SWITCHBOARD_RULES``, else the shipped
defaults (a ``rules:`` entry in the configuration file is planned).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cmd_search import _plain as plain  # control characters made visible
from storage.errors import NotFound
from storage.i18n import _
from storage.rules import (
    Automation,
    default_rules_text,
    explain,
    explain_lines,
    firings_for,
    history_lines,
    resolve_rules,
    rules_path,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules", help=_("check or dry-run the automation rules"),
        description=_("Check the automation rules file, or show which rules would act on a "
                      "task now and why. The file is --rules FILE, else $SWITCHBOARD_RULES, "
                      "else the shipped defaults."))
    actions = parser.add_subparsers(title=_("actions"), metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help=_("validate a rules file"),
        description=_("Validate the rules file; the first error is named with its line and "
                      "column."))
    check.add_argument("file", metavar="FILE", nargs="?", default=None,
                       help=_("the rules file (default: $SWITCHBOARD_RULES or the defaults)"))
    check.set_defaults(func=run_check)
    test = actions.add_parser(
        "test", help=_("show which rules would act on a task now, and why"),
        description=_("A dry run on one task: each rule, whether it would act now, and why "
                      "or why not; then the rules that already acted on it. Nothing is "
                      "changed."))
    test.add_argument("task", metavar="TASK", type=int, help=_("the task's number"))
    test.add_argument("--rules", metavar="FILE", default=None,
                      help=_("the rules file (default: $SWITCHBOARD_RULES or the defaults)"))
    test.set_defaults(func=run_test)
    defaults = actions.add_parser(
        "defaults", help=_("print the shipped default rules"),
        description=_("Print the shipped default rules as YAML, to copy and edit."))
    defaults.set_defaults(func=run_defaults)


def run_check(args: argparse.Namespace) -> int:
    ruleset = resolve_rules(args.file)  # a RulesError is a SwitchboardError: cli prints it
    source = rules_path(args.file)
    print(_("{file}: valid, {count} rules ({enabled} enabled).").format(
        file=source if source is not None else _("the default rules"),
        count=len(ruleset.rules), enabled=len(ruleset.enabled)))
    return 0


def run_test(args: argparse.Namespace) -> int:
    from console.bootstrap import open_store
    from console.cli import load

    config = load(args)
    ruleset = resolve_rules(args.rules)
    store = open_store(config, args.db)
    try:
        task = store.find_task_by_number(args.task)
        if task is None:
            raise NotFound(_("Task #{number} does not exist.").format(number=args.task))
        automation = Automation(store, ruleset)
        print(plain(_("Task #{number}: {title}").format(number=task.number, title=task.title)))
        for line in explain_lines(explain(automation, task.id)):
            print(plain(line))
        history = firings_for(store, task.id)
        print(_("Rules that acted on this task:") if history else
              _("No rule has acted on this task yet."))
        for line in history_lines(history, {r.id: r.title for r in ruleset.rules}):
            print(plain(line))
    finally:
        store.close()
    return 0


def run_defaults(args: argparse.Namespace) -> int:
    sys.stdout.write(default_rules_text())
    return 0
