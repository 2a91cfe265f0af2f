"""``switchboard search QUERY``: the search of the console, for scripts and pipes.

Prints one line per hit (task, time, kind, snippet) or, with ``--json``, one JSON
document with every field, so a script can act on results without scraping text.
A malformed query exits with status 2 and says where the query went wrong; it is
never a traceback. Client text is printed as plain text with control characters
made visible, so a message cannot drive the reader's terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime
from typing import Any

from storage.constants import STATUS_LABELS
from storage.i18n import _


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "search", help=_("search every conversation, contact and task"),
        description=_("Search messages, contacts and tasks with the query language of the "
                      "console (see docs/search.md): words match by prefix in any order, "
                      "\"exact phrase\", -exclude, channel:, from:client|operator|note, "
                      "@operator, status:, before:/after:YYYY-MM-DD, #123, phone numbers."))
    parser.add_argument("query", nargs="+", help=_("the search query (several words are joined)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON for machines"))
    parser.add_argument("--limit", type=int, default=50,
                        help=_("at most this many message hits (1-200, default 50)"))
    parser.add_argument("--newest", action="store_true",
                        help=_("newest first instead of by relevance"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from console.bootstrap import current_operator, open_store
    from console.config import ConfigError, load_config
    from storage.errors import SwitchboardError
    from storage.search import QueryError, Searcher

    query = " ".join(args.query)
    if not 1 <= args.limit <= 200:
        print(_("--limit must be between 1 and 200."), file=sys.stderr)
        return 2
    try:
        config = load_config(getattr(args, "config", None))
        store = open_store(config, getattr(args, "db", None))
    except (ConfigError, SwitchboardError) as err:
        print(str(err), file=sys.stderr)
        return 1
    try:
        operator = current_operator(store, config)
        restrict = bool(config.search.operators_see_only_own) and operator.role != "supervisor"
        try:
            results = Searcher(store).search(
                query, operator_id=operator.id, restrict_to_own=restrict,
                order="newest" if args.newest else "relevance", limit=args.limit)
        except QueryError as err:
            print(query, file=sys.stderr)
            print(" " * err.position + "^", file=sys.stderr)
            print(str(err), file=sys.stderr)
            return 2
    finally:
        store.close()
    if args.json:
        print(json.dumps(results_json(results), ensure_ascii=False, indent=2, default=_default))
    else:
        print_text(results)
    return 0


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def results_json(results: Any) -> dict[str, Any]:
    """Every field of the results, JSON-ready (times as ISO 8601 strings)."""
    return {
        "query": results.query,
        "ranked": results.ranked,
        "capped": results.capped,
        "jump_task_id": results.jump_task_id,
        "hits": [asdict(h) for h in results.hits],
        "tasks": [{"id": g.task.id, "number": g.task.number, "title": g.task.title,
                   "status": g.task.status, "contact": g.task.contact_name,
                   "channel": g.task.channel_name, "assignee": g.task.assignee_name,
                   "task_matched": g.task_matched,
                   "message_ids": [h.message_id for h in g.hits]} for g in results.groups],
        "contacts": [asdict(c) for c in results.contacts],
    }


def _plain(text: str) -> str:
    """Control characters made visible (the same pictures the console shows)."""
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 and ch not in "\t":
            out.append(chr(0x2400 + code))
        elif code == 0x7F or 0x80 <= code <= 0x9F:
            out.append(f"<U+{code:04X}>")
        else:
            out.append(ch)
    return "".join(out)


def print_text(results: Any) -> None:
    if results.jump_task_id is not None:
        print(_("Task #{number} exists: open it with its number.").format(
            number=next((g.task.number for g in results.groups
                         if g.task.id == results.jump_task_id), results.jump_task_id)))
    for contact in results.contacts:
        print(_("contact {id}: {name} {phones}").format(
            id=contact.id, name=_plain(contact.name), phones=" ".join(contact.phones)))
    for group in results.groups:
        print(_("#{number} {title} [{status}]").format(
            number=group.task.number, title=_plain(group.task.title),
            status=_(STATUS_LABELS.get(group.task.status, group.task.status))))
        for hit in group.hits:
            when = hit.created_at.strftime("%Y-%m-%d %H:%M") if hit.created_at else ""
            print(f"  {when} {hit.kind:<8} {_plain(hit.snippet)}")
    if not results.groups and not results.contacts:
        print(_("Nothing found."))
    elif not results.ranked and results.hits:
        print(_("(too many matches to rank: newest first)"))
