"""Keep the gettext catalogs in step with the code, without GNU gettext installed.

    python scripts/compile_translations.py            # compile every .po into its .mo
    python scripts/compile_translations.py --extract  # first add new source strings to every .po

Extraction reads the code with ``ast`` and collects the literal first argument of
every ``_("...")`` call (the one function user-facing strings go through). New
strings are appended to each ``storage/locale/<lang>/LC_MESSAGES/switchboard.po``
with an empty translation (gettext then falls back to English); existing translations
are kept, and strings no longer in the code are kept too, marked obsolete-by-comment,
so a translator's work is never thrown away.

Compilation is the ``msgfmt`` format: a little-endian .mo with the sorted table of
original and translated strings. Only plain ``msgid``/``msgstr`` entries are used
(no plural forms, no contexts), which is all the code produces.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "storage" / "locale"
ROOMS = ("storage", "connectors", "widgets", "console")
HEADER = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
          '"Content-Transfer-Encoding: 8bit\\n"\n"Language: {lang}\\n"\n\n')


def source_strings() -> dict[str, str]:
    """Every ``_("literal")`` in the code → the first place it appears (for a comment)."""
    found: dict[str, str] = {}
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "_" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    found.setdefault(node.args[0].value,
                                     f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _unquote(line: str) -> str:
    return ast.literal_eval(line)  # a .po string is a C-style double-quoted literal


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace(
        "\t", "\\t")
    return f'"{escaped}"'


def read_po(path: Path) -> dict[str, str]:
    """msgid → msgstr for every entry (the header, msgid "", excluded)."""
    entries: dict[str, str] = {}
    msgid: str | None = None
    msgstr: str | None = None
    field = ""
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith("msgid "):
            if msgid is not None and msgstr is not None and msgid:
                entries[msgid] = msgstr
            msgid, msgstr, field = _unquote(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, field = _unquote(line[7:]), "str"
        elif line.startswith('"'):
            if field == "id" and msgid is not None:
                msgid += _unquote(line)
            elif field == "str" and msgstr is not None:
                msgstr += _unquote(line)
        elif not line and msgid is not None and msgstr is not None:
            if msgid:
                entries[msgid] = msgstr
            msgid = msgstr = None
            field = ""
    return entries


def write_po(path: Path, lang: str, entries: dict[str, str], places: dict[str, str]) -> None:
    parts = [HEADER.format(lang=lang)]
    for msgid in sorted(entries, key=lambda m: (m not in places, places.get(m, ""), m)):
        where = places.get(msgid)
        parts.append(f"#: {where}\n" if where else "# not found in the code any more\n")
        parts.append(f"msgid {_quote(msgid)}\nmsgstr {_quote(entries[msgid])}\n\n")
    path.write_text("".join(parts), encoding="utf-8")


def compile_mo(entries: dict[str, str]) -> bytes:
    """The .mo bytes for the translated entries (empty translations are left out)."""
    pairs = sorted((k.encode(), v.encode()) for k, v in entries.items() if v)
    pairs.insert(0, (b"", b"Content-Type: text/plain; charset=UTF-8\n"))
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
    header = struct.pack("<7I", 0x950412DE, 0, count, ids_offset, strs_offset, 0, 0)
    return (header + struct.pack(f"<{2 * count}I", *id_table)
            + struct.pack(f"<{2 * count}I", *str_table) + ids + strs)


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/switchboard.po"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Update and compile the gettext catalogs.")
    parser.add_argument("--extract", action="store_true",
                        help="add the code's new strings to every .po before compiling")
    args = parser.parse_args(argv)
    places = source_strings() if args.extract else {}
    for po in catalogs():
        lang = po.parent.parent.name
        entries = read_po(po)
        if args.extract:
            for msgid in places:
                entries.setdefault(msgid, "")
            write_po(po, lang, entries, places)
        po.with_suffix(".mo").write_bytes(compile_mo(entries))
        done = sum(1 for v in entries.values() if v)
        print(f"{po.relative_to(ROOT)}: {done} of {len(entries)} translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
