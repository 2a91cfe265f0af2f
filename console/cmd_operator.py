"""``switchboard operator …``: set yourself available or away, and see the team.

* ``operator available [--limit N]`` — take new work from auto-assignment; ``--limit``
  caps your open tasks (``none`` removes your own cap);
* ``operator away`` — auto-assignment gives you nothing new;
* ``operator list [--json]`` — every operator, available or away, their limit and
  their open tasks.

``--as OPERATOR`` acts as another operator, as in ``switchboard task`` (a supervisor's
configuration, or one whose ``operator.may_act_as`` names them). Exit status: 0 on
success; 1 with a one-line reason (``Error: …``) when refused; 2 for a usage error.
"""

from __future__ import annotations

import argparse
from typing import Any

from console.cmd_task import _as_option, _plain, _print_json, _Session, _usage
from storage.i18n import _
from storage.inputs import TaskFilter


def register(subparsers: Any) -> None:
    operator = subparsers.add_parser(
        "operator", help=_("set yourself available or away; list the team"),
        description=_("Availability for auto-assignment, and the team's open tasks."))
    actions = operator.add_subparsers(title=_("actions"), metavar="ACTION")
    operator.set_defaults(func=lambda args: _usage(operator))

    available = _action(actions, "available", _("take new tasks from auto-assignment"),
                        run_available)
    available.add_argument("--limit", type=_open_limit, default=None, metavar="N",
                           help=_("at most N open tasks for you (none: no cap of your own)"))
    _action(actions, "away", _("take no new tasks from auto-assignment"), run_away)
    listing = _action(actions, "list", _("every operator: available or away, limit, open "
                                         "tasks"), run_list)
    listing.add_argument("--json", action="store_true", help=_("print JSON for machines"))


def _action(actions: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text,
                                                         description=help_text)
    _as_option(parser)
    parser.set_defaults(func=func)
    return parser


_NO_LIMIT = -1  # ``--limit none``: remove the operator's own cap


def _open_limit(text: str) -> int:
    """``--limit``: a whole number from 0 to 10000, or ``none``."""
    if text.strip().casefold() == "none":
        return _NO_LIMIT
    try:
        value = int(text)
    except ValueError:
        value = -2
    if not 0 <= value <= 10000:
        raise argparse.ArgumentTypeError(_("must be a whole number from 0 to 10000, or none"))
    return value


def run_available(args: argparse.Namespace) -> int:
    from storage.availability import set_available, set_open_limit

    with _Session(args) as s:
        if args.limit is not None:
            set_open_limit(s.store, s.me.id, None if args.limit == _NO_LIMIT else args.limit)
        row = set_available(s.store, s.me.id, True)
    name = _plain(s.me.name)
    if row.max_open is None:
        print(_("{name} is available.").format(name=name))
    else:
        print(_("{name} is available, with at most {limit} open tasks.").format(
            name=name, limit=row.max_open))
    return 0


def run_away(args: argparse.Namespace) -> int:
    from storage.availability import set_available

    with _Session(args) as s:
        set_available(s.store, s.me.id, False)
    print(_("{name} is away.").format(name=_plain(s.me.name)))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from storage.availability import availability

    with _Session(args) as s:
        marks = availability(s.store)
        rows = [{"name": op.name, "role": op.role,
                 "available": marks[op.id].available if op.id in marks else False,
                 "limit": marks[op.id].max_open if op.id in marks else None,
                 "open_tasks": s.store.count_tasks(TaskFilter(assignee_id=op.id,
                                                              active_only=True))}
                for op in s.store.list_operators()]
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        state = _("available") if row["available"] else _("away")
        limit = _("no limit") if row["limit"] is None else _("limit {n}").format(n=row["limit"])
        print(_plain(_("{name}  {state}  {limit}  open tasks: {open}").format(
            name=row["name"], state=state, limit=limit, open=row["open_tasks"])))
    if not rows:
        print(_("No operators."))
    return 0
