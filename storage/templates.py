"""Template variables: ``{{contact.name}}``, ``{{task.number}}``, ``{{operator.name}}``,
``{{task.additional_data}}`` (all of it, one ``key: value`` a line) or one key of it
(``{{task.additional_data.utm_source}}``). An unknown variable is an error that names
it, never silently dropped."""

from __future__ import annotations

import re
from typing import Any

from storage.errors import TemplateError
from storage.i18n import _
from storage.rows import ContactRow, OperatorRow, TaskRow

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


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
        ctx["task.additional_data"] = "\n".join(
            f"{k}: {v}" for k, v in sorted(task.additional_data.items()))
        for key, value in task.additional_data.items():
            ctx[f"task.additional_data.{key}"] = str(value)
    if operator is not None:
        ctx["operator.name"] = operator.name
    return ctx


def expand(text: str, context: dict[str, Any]) -> str:
    unknown = [name for name in variables_of(text) if name not in context]
    if unknown:
        names = tuple(dict.fromkeys(unknown))
        raise TemplateError(_("Unknown variable: {names}.").format(
            names=", ".join("{{" + n + "}}" for n in names)), names)
    return VARIABLE.sub(lambda m: str(context[m.group(1)]), text)
