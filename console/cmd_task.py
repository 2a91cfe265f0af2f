"""``switchboard task …``, ``switchboard reply`` and ``switchboard note``: every operator
action for scripts and for people who live in the shell.

* ``task list [--filter F] [--json]``; ``task show N [--json]``;
* ``task take N`` (atomic: exactly one of several takers wins), ``task assign N OPERATOR``
  (``nobody`` unassigns), ``task status N STATUS``;
* ``reply N TEXT`` and ``note N TEXT``; ``-`` as TEXT reads standard input.

``N`` is the task's number (``#12`` works too). ``--as OPERATOR`` acts as another
operator known to the database; only a configuration whose operator is a supervisor
may use it, or one whose ``operator.may_act_as`` names that operator. Exit status: 0
on success; 1 with a one-line reason (``Error: …``) when the action was refused; 2
for a usage error; 3 when a take was lost, the reason naming the operator who won.
Client text is printed with control and invisible characters made visible, and JSON
escapes them, so a message cannot drive the terminal of whoever reads the output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from datetime import datetime
from typing import Any

from storage.constants import STATUS_LABELS
from storage.errors import NotFound, RuleViolation
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.models import STATUSES, SUPERVISOR

LOST_TAKE = 3
FILTERS = ("all", "mine", "unassigned", "open", *STATUSES)
NOBODY = ("nobody", "-")
# JSON may carry these raw (json.dumps leaves them): C1 controls, bidi, invisible.
_JSON_UNSAFE = re.compile("[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e"
                          "\u2060-\u206f\ufeff\ufff9-\ufffb]")


def register(subparsers: Any) -> None:
    task = subparsers.add_parser(
        "task", help=_("list, show, take, assign tasks and change their status"),
        description=_("Operator actions on tasks, for scripts. N is a task number."))
    actions = task.add_subparsers(title=_("actions"), metavar="ACTION")
    task.set_defaults(func=lambda args: _usage(task))

    listing = _action(actions, "list", _("list tasks, newest activity first"), run_list)
    listing.add_argument("--filter", choices=FILTERS, default="all",
                         help=_("which tasks: all, mine, unassigned, open, or a status "
                                "(default: all)"))
    listing.add_argument("--limit", type=_limit, default=50,
                         help=_("at most this many tasks (1-1000, default 50)"))
    listing.add_argument("--json", action="store_true", help=_("print JSON for machines"))

    show = _action(actions, "show", _("show a task and its conversation"), run_show)
    _number(show)
    show.add_argument("--limit", type=_limit, default=50,
                      help=_("the newest messages to show (1-1000, default 50)"))
    show.add_argument("--json", action="store_true", help=_("print JSON for machines"))

    _number(_action(actions, "take", _("take an unassigned task; exit status 3 names who was "
                                       "first"), run_take))
    assign = _action(actions, "assign", _("assign a task to an operator (nobody: unassign)"),
                     run_assign)
    _number(assign)
    assign.add_argument("operator", metavar="OPERATOR", help=_("the operator's name, or nobody"))
    status = _action(actions, "status", _("change a task's status"), run_status)
    _number(status)
    status.add_argument("status", metavar="STATUS", help=_("one of: {statuses}").format(
        statuses=", ".join(STATUSES)))

    for name, help_text, func in (
            ("reply", _("send a reply to the client of a task"), run_reply),
            ("note", _("add a private note to a task (never sent)"), run_note)):
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        _number(parser)
        parser.add_argument("text", metavar="TEXT", help=_("the text; - reads standard input"))
        _as_option(parser)
        parser.set_defaults(func=func)


def _action(actions: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text,
                                                         description=help_text)
    _as_option(parser)
    parser.set_defaults(func=func)
    return parser


def _number(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="N", help=_("the task number"))


def _as_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_operator", metavar="OPERATOR", default=None,
                        help=_("act as this operator (a supervisor's configuration only)"))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    return 2


class _Session:
    """The open store and the operator this command acts as; closes the store on exit."""

    def __init__(self, args: argparse.Namespace) -> None:
        from console.bootstrap import current_operator, open_store
        from console.cli import load

        config = load(args)
        self.store = open_store(config, getattr(args, "db", None))
        try:
            me = current_operator(self.store, config)
            wanted = getattr(args, "as_operator", None)
            if wanted is not None and wanted != me.name:
                if config.operator.role != SUPERVISOR and wanted not in config.operator.may_act_as:
                    raise RuleViolation(_("--as needs a supervisor's configuration; {name} is "
                                          "an operator.").format(name=me.name))
                other = self.store.operator_by_name(wanted)
                if other is None:
                    raise NotFound(_("There is no operator named {name!r}.").format(name=wanted))
                me = other
            self.me = me
        except BaseException:
            self.store.close()
            raise

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()

    def task(self, number: str) -> Any:
        digits = number.strip().removeprefix("#")
        if not digits.isdigit():
            raise RuleViolation(_("{value!r} is not a task number.").format(value=number))
        row = self.store.find_task_by_number(int(digits))
        if row is None:
            raise NotFound(_("There is no task #{number}.").format(number=int(digits)))
        return row


def _limit(text: str) -> int:
    """``--limit``: a whole number from 1 to 1000 (anything else is a usage error, status 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(_("must be a whole number from 1 to 1000"))
    return value


def run_list(args: argparse.Namespace) -> int:
    limit = args.limit
    with _Session(args) as s:
        f = _filter(args.filter, s.me.id)
        tasks: list[Any] = []
        cursor = None
        while len(tasks) < limit:
            page = s.store.list_tasks(f, after=cursor, limit=min(200, limit - len(tasks)))
            tasks += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    if args.json:
        _print_json([task_json(t) for t in tasks])
        return 0
    for t in tasks:
        print(task_line(t))
    if not tasks:
        print(_("No tasks."))
    return 0


def _filter(name: str, me: int) -> TaskFilter | None:
    if name == "mine":
        return TaskFilter(assignee_id=me, active_only=True)
    if name == "unassigned":
        return TaskFilter(unassigned=True, active_only=True)
    if name == "open":
        return TaskFilter(active_only=True)
    if name in STATUSES:
        return TaskFilter(statuses=(name,))
    return None


def run_show(args: argparse.Namespace) -> int:
    limit = args.limit
    with _Session(args) as s:
        task = s.task(args.number)
        messages = s.store.thread_before(task.id, None, limit=limit).items
    if args.json:
        _print_json({"task": task_json(task), "messages": [_jsonable(asdict(m)) for m in messages]})
        return 0
    print(task_line(task))
    if task.description:
        print(_plain(task.description))
    for m in messages:
        print(message_line(m))
    return 0


def run_take(args: argparse.Namespace) -> int:
    from storage.taking import take

    with _Session(args) as s:
        result = take(s.store, s.task(args.number).id, s.me.id)
    if not result.won:
        print(_plain(result.message()), file=sys.stderr)
        return LOST_TAKE
    print(result.message())
    return 0


def run_assign(args: argparse.Namespace) -> int:
    with _Session(args) as s:
        task = s.task(args.number)
        target = None
        if args.operator.casefold() not in NOBODY:
            target = s.store.operator_by_name(args.operator)
            if target is None:
                raise NotFound(_("There is no operator named {name!r}.").format(name=args.operator))
        reassign = task.assignee_id not in (None, s.me.id)
        if reassign and s.me.role != SUPERVISOR and (target is None or target.id != task.assignee_id):
            raise RuleViolation(_("Task #{number} is {name}'s; only a supervisor reassigns it.")
                                .format(number=task.number, name=_plain(task.assignee_name)))
        s.store.assign([task.id], target.id if target else None, by=s.me.id)
    if target is None:
        print(_("Task #{number} is now unassigned.").format(number=task.number))
    else:
        print(_("Task #{number} is now assigned to {name}.").format(
            number=task.number, name=_plain(target.name)))
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = args.status.strip().lower().replace("-", "_").replace(" ", "_")
    if status not in STATUSES:
        raise RuleViolation(_("Unknown status {status!r}; use one of: {statuses}.").format(
            status=args.status, statuses=", ".join(STATUSES)))
    with _Session(args) as s:
        task = s.task(args.number)
        s.store.set_status([task.id], status, by=s.me.id)
    print(_("Task #{number}: {status}.").format(number=task.number,
                                                status=_(STATUS_LABELS[status])))
    return 0


def _text(value: str) -> str:
    if value != "-":
        return value
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") else text


def run_reply(args: argparse.Namespace) -> int:
    text = _text(args.text)
    with _Session(args) as s:
        task = s.task(args.number)
        message = s.store.reply(task.id, s.me.id, text)
    print(_("Reply queued for the client of task #{number} (message {id}).").format(
        number=task.number, id=message.id))
    return 0


def run_note(args: argparse.Namespace) -> int:
    text = _text(args.text)
    with _Session(args) as s:
        task = s.task(args.number)
        message = s.store.note(task.id, s.me.id, text)
    print(_("Note added to task #{number} (message {id}).").format(
        number=task.number, id=message.id))
    return 0


# ---- output ------------------------------------------------------------------------------
def _plain(text: str) -> str:
    from widgets.safe_text import clean

    return clean(text)


def task_line(t: Any) -> str:
    who = t.assignee_name or _("unassigned")
    status = _(STATUS_LABELS.get(t.status, t.status))
    head = f"#{t.number}  [{status}]  {who}  {t.channel_name}  {t.contact_name or t.title}"
    preview = " ".join(t.last_preview.split())
    return _plain(f"{head}  — {preview}" if preview else head)


def message_line(m: Any) -> str:
    when = m.created_at.astimezone().strftime("%Y-%m-%d %H:%M")  # local time
    lines = (m.text or ", ".join(a.name for a in m.attachments)).split("\n")
    if m.kind == "event":
        head = f"{when}  · "
    else:
        who = _("client") if m.kind == "inbound" else (m.author_operator_name or "?")
        label = {"note": _("note"), "outbound": _("reply")}.get(m.kind, "")
        state = f" ({m.delivery_state})" if m.delivery_state else ""
        head = f"{when}  {who}{' ' + label if label else ''}{state}: "
    return _plain(head + ("\n" + " " * len(head)).join(lines))


def task_json(t: Any) -> dict[str, Any]:
    return _jsonable(asdict(t))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _print_json(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    print(_JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text))
