"""The key map: every binding id, the user's overrides from the config, and the reference.

Every binding the console offers has an id (``composer.send``, ``tasks.next``...). The
config file's ``keys:`` section maps ids to keys and is applied with
``App.set_keymap``; an id that does not exist is reported (a typo must not silently
do nothing). The help screen and ``docs/keyboard.md`` are generated from the same
binding classes by :func:`binding_table`, so they cannot drift from what the screen
does; ``python -m console.keymap`` rewrites the document and a test compares it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding

from storage.i18n import _

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "keyboard.md"


@dataclass(frozen=True)
class KeyRow:
    group: str
    binding_id: str
    keys: str
    description: str
    tooltip: str


def binding_groups() -> list[tuple[str, list[Binding]]]:
    """(group title, bindings) for every place that binds keys, in reading order."""
    from console.app import SwitchboardApp
    from console.screens.dialog import Dialog
    from console.screens.inbox import InboxScreen
    from console.screens.merge_contacts import MergeContactsDialog
    from console.screens.supervisor import SupervisorScreen
    from console.screens.write_first import WriteFirstDialog
    from widgets.composer import Composer
    from widgets.quick_reply_picker import QuickReplyPicker
    from widgets.task_list import TaskList
    from widgets.thread_view import ThreadView

    def own(cls: type) -> list[Binding]:
        return [b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding) and b.id]

    return [
        (_("Everywhere"), own(SwitchboardApp)),
        (_("Inbox"), own(InboxScreen)),
        (_("Supervisor view"), own(SupervisorScreen)),
        (_("Task list"), own(TaskList)),
        (_("Conversation"), own(ThreadView)),
        (_("Composer"), own(Composer)),
        (_("Quick-replies picker"), own(QuickReplyPicker)),
        (_("Dialogs"), own(Dialog) + own(MergeContactsDialog) + own(WriteFirstDialog)),
    ]


def known_ids() -> set[str]:
    return {b.id for _group, bindings in binding_groups() for b in bindings if b.id}


def check_keymap(keys: dict[str, str]) -> list[str]:
    """Warnings for the config's ``keys:``: unknown binding ids, empty keys."""
    known = known_ids()
    problems = []
    for binding_id, value in keys.items():
        if binding_id not in known:
            problems.append(_("keys.{id}: there is no binding with this id (see the keyboard "
                              "reference).").format(id=binding_id))
        elif not value.strip():
            problems.append(_("keys.{id}: no key given.").format(id=binding_id))
    return problems


def usable_keymap(keys: dict[str, str]) -> dict[str, str]:
    """The part of the config's keymap that can be applied."""
    known = known_ids()
    return {k: v for k, v in keys.items() if k in known and v.strip()}


def binding_table(keys: dict[str, str] | None = None) -> list[KeyRow]:
    """Every binding with its effective keys (the config's override, else the default)."""
    keys = keys or {}
    rows = []
    for group, bindings in binding_groups():
        for binding in bindings:
            assert binding.id is not None
            rows.append(KeyRow(group, binding.id, keys.get(binding.id, binding.key),
                               binding.description, binding.tooltip))
    return rows


def render_markdown(keys: dict[str, str] | None = None) -> str:
    """The keyboard reference in Markdown (what ``docs/keyboard.md`` holds)."""
    lines = [
        "# Switchboard keyboard reference",
        "",
        "Generated from the console's bindings by `python -m console.keymap` "
        "(a test checks it is current). Every key can be changed in the config file's "
        "`keys:` section by binding id, e.g. `keys: {composer.send: f5}`. "
        "`ctrl+p` opens the command palette, where every action is also listed; "
        "`f1` shows this table inside the console.",
        "",
        "Keys in the *Inbox* group work when the focus is not in a text field (press "
        "`escape` in the composer to return to the task list); ctrl-keys work everywhere. "
        "`tab` and `shift+tab` move between the task list, the conversation, the composer "
        "and the contact card.",
        "",
        "In the composer, `enter` inserts a newline and the send key (`composer.send`) "
        "sends, so a half-written message is never sent by accident. Typing `*` at the "
        "start of a line or after a space opens the quick-replies picker: type any words, "
        "`enter` inserts the reply with its variables filled in, `escape` goes back with "
        "the text untouched.",
    ]
    current = None
    for row in binding_table(keys):
        if row.group != current:
            current = row.group
            lines += ["", f"## {row.group}", "", "| keys | action | id |", "|---|---|---|"]
        what = row.description + (f" — {row.tooltip}" if row.tooltip else "")
        lines.append(f"| `{row.keys}` | {what} | `{row.binding_id}` |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Rewrite docs/keyboard.md from the bindings (``--check`` only compares)."""
    text = render_markdown()
    if "--check" in sys.argv[1:]:
        if not DOC_PATH.exists() or DOC_PATH.read_text(encoding="utf-8") != text:
            print("docs/keyboard.md is out of date: run python -m console.keymap")
            raise SystemExit(1)
        return
    DOC_PATH.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
