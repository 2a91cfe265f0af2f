"""Quick replies: a library of ready answers, searched by any words in any order.

Matching: every word the operator typed must be a prefix-or-infix of the reply's
title, text or tags (case-insensitive, ё = е), in any order. Languages filter the
list. Import and export use a YAML list of ``{title, text, language, tags}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from storage import events as ev
from storage.convert import quick_reply_row
from storage.errors import NotFound, RuleViolation
from storage.i18n import _
from storage.models import Models
from storage.rows import QuickReplyRow
from storage.templates import context_for, expand
from storage.text import fold, words

if TYPE_CHECKING:
    from storage.core import StoreCore


class QuickReplies:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def add_quick_reply(self, title: str, text: str, language: str = "en",
                        tags: tuple[str, ...] | list[str] = ()) -> QuickReplyRow:
        if not title.strip() or not text.strip():
            raise RuleViolation(_("A quick reply needs a title and a text."))
        with self.core.transaction() as tx:
            q = self.m.QuickReply.create(title=title, text=text, language=language or "en",
                                         tags=" ".join(tags))
            tx.emit(ev.QUICK_REPLIES_CHANGED)
        return quick_reply_row(q)

    def list_quick_replies(self, language: str | None = None) -> list[QuickReplyRow]:
        Q = self.m.QuickReply
        query = Q.select().order_by(Q.title, Q.id)
        if language:
            query = query.where(Q.language == language)
        return [quick_reply_row(q) for q in query]

    def search_quick_replies(self, query: str, language: str | None = None,
                             limit: int = 50) -> list[QuickReplyRow]:
        """Replies where every typed word occurs (partially, any order) in title, text or tags."""
        wanted = words(query)
        found = []
        for row in self.list_quick_replies(language):
            haystack = fold(" ".join((row.title, row.text, *row.tags)))
            if all(w in haystack for w in wanted):
                found.append(row)
                if len(found) >= limit:
                    break
        return found

    def expand_quick_reply(self, reply_id: int, task_id: int | None,
                           operator_id: int | None) -> str:
        """The reply's text with its variables filled for this task; unknown ones raise."""
        q = self.m.QuickReply.get_or_none(self.m.QuickReply.id == reply_id)
        if q is None:
            raise NotFound(_("Quick reply {id} does not exist.").format(id=reply_id))
        return expand(q.text, self.template_context(task_id, operator_id))

    def template_context(self, task_id: int | None, operator_id: int | None) -> dict[str, str]:
        task = self.core.reads.get_task(task_id) if task_id is not None else None
        contact = (self.core.reads.get_contact(task.contact_id)
                   if task is not None and task.contact_id else None)
        operator = self.core.reads.get_operator(operator_id) if operator_id else None
        return context_for(task, contact, operator)

    def export_quick_replies(self) -> str:
        items = [{"title": r.title, "text": r.text, "language": r.language, "tags": list(r.tags)}
                 for r in self.list_quick_replies()]
        return yaml.safe_dump(items, allow_unicode=True, sort_keys=False)

    def import_quick_replies(self, text: str) -> int:
        """Add or update (by title and language) replies from YAML; returns how many.

        Invalid YAML or a malformed entry raises with the entry's position; nothing is
        stored unless every entry is valid."""
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise RuleViolation(_("The quick replies file is not valid YAML: {err}").format(err=err)) from err
        if not isinstance(data, list):
            raise RuleViolation(_("The quick replies file must be a list of replies."))
        clean = []
        for n, item in enumerate(data, 1):
            if not isinstance(item, dict) or not str(item.get("title", "")).strip() or not str(
                    item.get("text", "")).strip():
                raise RuleViolation(_("Reply {n}: needs a title and a text.").format(n=n))
            tags = item.get("tags") or []
            if isinstance(tags, str):
                tags = tags.split()
            clean.append((str(item["title"]), str(item["text"]), str(item.get("language") or "en"),
                          " ".join(str(t) for t in tags)))
        Q = self.m.QuickReply
        with self.core.transaction() as tx:
            for title, body, language, tags in clean:
                existing = Q.get_or_none((Q.title == title) & (Q.language == language))
                if existing:
                    existing.text, existing.tags = body, tags
                    existing.save()
                else:
                    Q.create(title=title, text=body, language=language, tags=tags)
            tx.emit(ev.QUICK_REPLIES_CHANGED)
        return len(clean)
