"""Template variables: ``{{contact.name}}``, ``{{task.number}}``, ``{{operator.name}}``,
``{{task.additional_data}}`` (all of it, one ``key: value`` a line) or one key of it
(``{{task.additional_data.utm_source}}``; client-supplied data as
``{{task.additional_data.client.<key>}}``). An unknown variable is an error that names
it, never silently dropped.

Aliases: Planfix's own spelling ``{{Задача.Дополнительные данные описания}}`` is
``{{task.additional_data}}`` (:data:`ALIASES`; spaces inside may vary)."""

from __future__ import annotations

import re
from typing import Any

from storage.additional_data import flatten
from storage.errors import TemplateError
from storage.i18n import _
from storage.rows import ContactRow, OperatorRow, TaskRow

ALIASES = {"Задача.Дополнительные данные описания": "task.additional_data"}


def _alias_pattern(alias: str) -> str:
    return r"\s+".join(re.escape(word) for word in alias.split())


VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*|"
                      + "|".join(_alias_pattern(a) for a in ALIASES) + r")\s*\}\}")


def canonical(name: str) -> str:
    """The variable's own name (an alias resolved; its inner spaces normalized first)."""
    spaced = " ".join(name.split())
    return ALIASES.get(spaced, name)


def variables_of(text: str) -> list[str]:
    return [m.group(1) for m in VARIABLE.finditer(text)]


def context_for(task: TaskRow | None, contact: ContactRow | None,
                operator: OperatorRow | None) -> dict[str, str]:
    ctx: dict[str, str] = {}
    if contact is not None:
        ctx["contact.name"] = contact.name
        ctx["contact.phone"] = contact.phones[0] if contact.phones else ""
        ctx["contact.email"] = contact.emails[0] if contact.emails else ""
    if task is not None:
        ctx["task.number"] = str(task.number)
        ctx["task.title"] = task.title
        ctx["task.status"] = task.status
        ctx["task.channel"] = task.channel_name
        pairs = flatten(task.additional_data)
        ctx["task.additional_data"] = "\n".join(f"{k}: {v}" for k, v in pairs)
        for key, value in pairs:
            ctx[f"task.additional_data.{key}"] = str(value)
    if operator is not None:
        ctx["operator.name"] = operator.name
    return ctx


def expand(text: str, context: dict[str, Any]) -> str:
    unknown = [name for name in variables_of(text) if canonical(name) not in context]
    if unknown:
        names = tuple(dict.fromkeys(unknown))
        raise TemplateError(_("Unknown variable: {names}.").format(
            names=", ".join("{{" + n + "}}" for n in names)), names)
    return VARIABLE.sub(lambda m: str(context[canonical(m.group(1))]), text)
