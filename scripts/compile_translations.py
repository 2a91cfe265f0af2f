"""Keep the gettext catalogs in step with the code, without GNU gettext installed.

    python scripts/compile_translations.py            # compile every .po into its .mo
    python scripts/compile_translations.py --extract  # first add new source strings to every .po

Extraction reads the code with ``ast`` and collects the literal arguments of every
``_("...")`` and ``ngettext("...", "...", n)`` call (the functions user-facing strings go
through). A few strings reach ``_`` through a variable (task status labels, roles,
channel health states); they are declared below in ``DEFERRED`` and the call sites that
translate them in ``DYNAMIC_CALLS``, so a new call with a variable argument is noticed
(tests/test_i18n.py fails with its file and line) instead of silently staying English.

New strings are appended to each ``storage/locale/<lang>/LC_MESSAGES/switchboard.po``
with an empty translation (gettext then falls back to English); existing translations
are kept, and strings no longer in the code are kept too, marked obsolete-by-comment,
so a translator's work is never thrown away.

Compilation is the ``msgfmt`` format: a little-endian .mo with the sorted table of
original and translated strings; plural entries are stored as ``singular\\0plural`` →
``form0\\0form1\\0…`` with the language's ``Plural-Forms`` in the header.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "storage" / "locale"
ROOMS = ("storage", "connectors", "widgets", "console")

# Module-level names whose string literals are translated at run time through a variable.
DEFERRED: dict[str, tuple[str, ...]] = {
    # task status labels (dict values) and roles (shown in the status bar)
    "storage/constants.py": ("STATUS_LABELS", "OPERATOR", "SUPERVISOR"),
    "connectors/base.py": ("STARTING", "OK", "DEGRADED", "FAILED", "STOPPED"),  # health
}
# Every ``_(variable)`` call site, as (file, argument source); each translates a DEFERRED value.
DYNAMIC_CALLS: frozenset[tuple[str, str]] = frozenset({
    ("storage/task_admin.py", "STATUS_LABELS[status]"),
    ("storage/replies.py", "STATUS_LABELS[task.status]"),
    ("widgets/thread_header.py", "STATUS_LABELS.get(task.status, task.status)"),
    ("console/cmd_task.py", "STATUS_LABELS.get(t.status, t.status)"),
    ("console/cmd_task.py", "STATUS_LABELS[status]"),
    ("widgets/contact_card.py", "STATUS_LABELS.get(task.status, task.status)"),
    ("widgets/search_results.py", "STATUS_LABELS.get(task.status, task.status)"),
    ("widgets/status_bar.py", "self.role"),
    ("widgets/status_bar.py", "state"),
    ("console/filters.py", "STATUS_LABELS[self.status]"),
    ("console/cmd_search.py", "STATUS_LABELS.get(group.task.status, group.task.status)"),
    ("console/screens/assign.py", "o.role"),
    ("console/screens/inbox_actions.py", "STATUS_LABELS[status]"),
    ("console/screens/inbox_actions.py", "label"),
    ("console/screens/status.py", "STATUS_LABELS[s]"),
})

PLURAL_FORMS = {
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
          "(n%100<10 || n%100>=20) ? 1 : 2);",
}
DEFAULT_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def plural_forms(lang: str) -> str:
    return PLURAL_FORMS.get(lang, DEFAULT_PLURAL_FORMS)


def nplurals(lang: str) -> int:
    return int(plural_forms(lang).split(";")[0].split("=")[1])


def header(lang: str) -> str:
    return ("Content-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            f"Language: {lang}\n"
            f"Plural-Forms: {plural_forms(lang)}\n")


@dataclass
class Entry:
    """One catalog entry: ``plural`` is the English plural for an ngettext entry."""

    plural: str | None = None
    strs: list[str] = field(default_factory=lambda: [""])

    @property
    def translated(self) -> bool:
        return all(self.strs) and bool(self.strs)


@dataclass(frozen=True)
class Source:
    place: str  # "path:line" of the first call
    plural: str | None = None


@dataclass
class Scan:
    """What the code passes to the translation functions."""

    strings: dict[str, Source] = field(default_factory=dict)
    dynamic: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, expr


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _deferred_literals(tree: ast.Module, names: tuple[str, ...]) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None or not any(
                    isinstance(t, ast.Name) and t.id in names for t in targets):
                continue
            value = node.value
            parts = value.values if isinstance(value, ast.Dict) else [value]
            found += [(s, p.lineno) for p in parts if (s := _literal(p)) is not None]
    return found


def scan_code(root: Path = ROOT) -> Scan:
    """Every translatable literal in the code → the first place it appears."""
    scan = Scan()
    for room in ROOMS:
        for path in sorted((root / room).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for text, line in _deferred_literals(tree, DEFERRED.get(rel, ())):
                scan.strings.setdefault(text, Source(f"{rel}:{line}"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                args = node.args
                if node.func.id == "_" and args:
                    text = _literal(args[0])
                    if text is None:
                        scan.dynamic.append((rel, node.lineno, ast.unparse(args[0])))
                    else:
                        scan.strings.setdefault(text, Source(f"{rel}:{node.lineno}"))
                elif node.func.id == "ngettext" and len(args) >= 2:
                    one, many = _literal(args[0]), _literal(args[1])
                    if one is None or many is None:
                        scan.dynamic.append((rel, node.lineno, ast.unparse(node)))
                    else:
                        scan.strings.setdefault(one, Source(f"{rel}:{node.lineno}", many))
    return scan


def source_strings() -> dict[str, str]:
    """Every translatable string → the first place it appears (for a comment)."""
    return {text: src.place for text, src in scan_code().strings.items()}


def _unquote(line: str) -> str:
    return ast.literal_eval(line)  # a .po string is a C-style double-quoted literal


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace(
        "\t", "\\t")
    return f'"{escaped}"'


def read_po(path: Path) -> dict[str, Entry]:
    """msgid → Entry for every entry (the header, msgid "", excluded)."""
    entries: dict[str, Entry] = {}
    msgid: str | None = None
    entry = Entry(strs=[])
    field_name: str | int = ""

    def flush() -> None:
        if msgid:
            entries[msgid] = Entry(entry.plural, entry.strs or [""])

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith("msgid "):
            flush()
            msgid, entry, field_name = _unquote(line[6:]), Entry(strs=[]), "id"
        elif line.startswith("msgid_plural "):
            entry.plural, field_name = _unquote(line[13:]), "plural"
        elif line.startswith("msgstr["):
            index = int(line[7:line.index("]")])
            while len(entry.strs) <= index:
                entry.strs.append("")
            entry.strs[index] = _unquote(line[line.index("]") + 1:].strip())
            field_name = index
        elif line.startswith("msgstr "):
            entry.strs, field_name = [_unquote(line[7:])], 0
        elif line.startswith('"') and msgid is not None:
            if field_name == "id":
                msgid += _unquote(line)
            elif field_name == "plural" and entry.plural is not None:
                entry.plural += _unquote(line)
            elif isinstance(field_name, int):
                entry.strs[field_name] += _unquote(line)
        elif not line and msgid is not None:
            flush()
            msgid, entry, field_name = None, Entry(strs=[]), ""
    return entries


def write_po(path: Path, lang: str, entries: dict[str, Entry], places: dict[str, str]) -> None:
    parts = ['msgid ""\nmsgstr ""\n']
    parts += [_quote(line + "\n") + "\n" for line in header(lang).splitlines()]
    parts.append("\n")
    for msgid in sorted(entries, key=lambda m: (m not in places, places.get(m, ""), m)):
        where = places.get(msgid)
        entry = entries[msgid]
        parts.append(f"#: {where}\n" if where else "# not found in the code any more\n")
        parts.append(f"msgid {_quote(msgid)}\n")
        if entry.plural is None:
            parts.append(f"msgstr {_quote(entry.strs[0])}\n\n")
            continue
        parts.append(f"msgid_plural {_quote(entry.plural)}\n")
        forms = entry.strs + [""] * (nplurals(lang) - len(entry.strs))
        parts += [f"msgstr[{i}] {_quote(s)}\n" for i, s in enumerate(forms)]
        parts.append("\n")
    path.write_text("".join(parts), encoding="utf-8")


def merge(entries: dict[str, Entry], scan: Scan, lang: str) -> dict[str, Entry]:
    """The catalog with every source string present (new ones untranslated)."""
    merged = dict(entries)
    for msgid, src in scan.strings.items():
        old = merged.get(msgid)
        if old is None or old.plural != src.plural:
            count = 1 if src.plural is None else nplurals(lang)
            merged[msgid] = Entry(src.plural, [""] * count)
    return merged


def compile_mo(entries: dict[str, Entry], lang: str = "ru") -> bytes:
    """The .mo bytes for the translated entries (untranslated ones are left out)."""
    pairs = []
    for msgid, entry in entries.items():
        if not entry.translated:
            continue
        key = msgid if entry.plural is None else f"{msgid}\0{entry.plural}"
        pairs.append((key.encode(), "\0".join(entry.strs).encode()))
    pairs.sort()
    pairs.insert(0, (b"", header(lang).encode()))
    count = len(pairs)
    ids_offset = 7 * 4
    strs_offset = ids_offset + count * 8
    data_offset = strs_offset + count * 8
    ids = b"".join(k + b"\0" for k, _v in pairs)
    strs = b"".join(v + b"\0" for _k, v in pairs)
    id_table, str_table = [], []
    pos = data_offset
    for k, _v in pairs:
        id_table += [len(k), pos]
        pos += len(k) + 1
    for _k, v in pairs:
        str_table += [len(v), pos]
        pos += len(v) + 1
    head = struct.pack("<7I", 0x950412DE, 0, count, ids_offset, strs_offset, 0, 0)
    return (head + struct.pack(f"<{2 * count}I", *id_table)
            + struct.pack(f"<{2 * count}I", *str_table) + ids + strs)


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/switchboard.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Update and compile the gettext catalogs.")
    parser.add_argument("--extract", action="store_true",
                        help="add the code's new strings to every .po before compiling")
    args = parser.parse_args(argv)
    scan = scan_code() if args.extract else Scan()
    unknown = [f"{f}:{n}: _({e})" for f, n, e in scan.dynamic if (f, e) not in DYNAMIC_CALLS]
    for line in unknown:
        print(f"{line}: a variable argument; declare it in DEFERRED/DYNAMIC_CALLS",
              file=sys.stderr)
    for po in catalogs():
        lang = po.parent.parent.name
        entries = read_po(po)
        if args.extract:
            entries = merge(entries, scan, lang)
            write_po(po, lang, entries, {m: s.place for m, s in scan.strings.items()})
        po.with_suffix(".mo").write_bytes(compile_mo(entries, lang))
        done = sum(1 for e in entries.values() if e.translated)
        print(f"{po.relative_to(ROOT)}: {done} of {len(entries)} translated")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
