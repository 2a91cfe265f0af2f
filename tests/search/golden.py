"""The search results page as plain data, for comparing one implementation with another.

``page(store, world)`` runs :data:`CASES` (Cyrillic, ё/е, phone digits, filters, a
task number, exclusions, empty results, both orders, small pages, restricted
operators) in a richer world than the conftest's and returns, per case, every field
the console and ``switchboard search`` show: hits (ids, snippet, highlights, kind,
author, task number), groups (the task's id, number, title, status, contact,
channel, assignee, whether it matched itself, its hits), contacts with their latest
task, the jump task, ``ranked`` and ``capped``. Creation times are compared as the
message's own (replies and notes are stamped with the clock), so the page is the
same on every run. ``golden_search.json`` holds it as the search returned it before
issue 20's rewrite (recorded with the old code on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from typing import Any

from storage.inputs import AttachmentIn
from storage.search import Searcher
from tests.search.conftest import World, inbound

CASES: tuple[tuple[str, dict[str, Any]], ...] = tuple(
    (q, kw) for q in (
        "refund", "invoice", "inv 447", '"send invoice"', "refund from:client",
        "refund channel:telegram", "invoice -refund", "refund @anna", "contract еж",
        "счет", "СЧЁТ", "счёт на", "Ёлка", "елка", "ольг", "Ольга", "пётр", "петр",
        "+7 (916) 123-45-67", "89161234567", "9161234567", "123-45-67", "4471",
        "tg-main", "olga@example.com", "nothing-here-xyz", "цеппелин", "from:client",
        "-refund", "status:open refund", "#1", "#2 refund", "#999", "заказ", "зака дост",
        '"добрый день"', "доставка -заказ",
    ) for kw in ({"order": "relevance"}, {"order": "newest"}, {"order": "relevance",
                                                              "limit": 2})
) + (("refund", {"operator_id": "anna", "restrict_to_own": True}),
     ("ольг", {"operator_id": "anna", "restrict_to_own": True}),
     ("#3", {"operator_id": "anna", "restrict_to_own": True}),
     ("invoice", {"operator_id": "boris", "restrict_to_own": True, "order": "newest"}))


def enrich(world: World) -> None:
    """More to find: Cyrillic with ё, attachments, a common word, an order of words."""
    store, tg, web = world.store, world.tg, world.web
    store.ingest(inbound(tg, "300", "Ёлка к заказу: доставка завтра, добрый день!", "t10", 6,
                         display_name="Семён Ёжиков", phone="8 916 765-43-21"))
    for i in range(6):
        store.ingest(inbound(tg, "300", f"заказ номер {i}, добрый день", f"t1{i}", 7 + i))
    store.ingest(inbound(web, "w-zep", "Цеппелин прилетел? заказ", "w30", 14,
                         display_name="Цеппелин Петрович",
                         attachments=(AttachmentIn("цеппелин.jpg"), AttachmentIn("b.pdf"))))
    store.reply(world.olga_task, world.boris, "Счёт отправлен, доставка завтра")
    store.note(world.petr_task, world.anna, "refund refund refund, the refund again")


def page(world: World) -> list[dict[str, Any]]:
    store = world.store
    ops = {"anna": world.anna, "boris": world.boris}
    out = []
    for query, kw in CASES:
        args = dict(kw)
        if "operator_id" in args:
            args["operator_id"] = ops[args["operator_id"]]
        r = Searcher(store).search(query, **args)
        out.append({
            "query": query, "args": {k: v for k, v in kw.items()},
            "ranked": r.ranked, "capped": r.capped, "jump": r.jump_task_id,
            "hits": [_hit(store, h) for h in r.hits],
            "groups": [{"task": [g.task.id, g.task.number, g.task.title, g.task.status,
                                 g.task.contact_id, g.task.contact_name, g.task.channel_id,
                                 g.task.channel_kind, g.task.channel_name,
                                 g.task.assignee_id, g.task.assignee_name],
                        "matched": g.task_matched, "hits": [h.message_id for h in g.hits]}
                       for g in r.groups],
            "contacts": [[c.id, c.name, list(c.phones), list(c.emails), c.merged_into_id]
                         for c in r.contacts],
            "contact_tasks": list(r.contact_task_ids),
        })
    return out


def _hit(store: Any, h: Any) -> list[Any]:
    same_time = h.created_at == store.get_message(h.message_id).created_at
    return [h.task_id, h.message_id, h.snippet, [list(x) for x in h.highlights], h.kind,
            h.task_number, h.author, same_time]
