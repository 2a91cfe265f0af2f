"""``switchboard quick-replies import|export FILE``: the library as a YAML file.

``-`` means stdin or stdout, so the library can be piped between machines
(``switchboard quick-replies export - | ssh desk switchboard quick-replies import -``).
An import is all or nothing: a malformed file changes nothing and says which entry
is wrong. An export is written to a temporary file and renamed, so a failed export
never leaves half a file where a good one was.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from console.bootstrap import open_store
from storage.errors import SwitchboardError
from storage.i18n import _


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "quick-replies", help=_("import or export quick replies as YAML"),
        description=_("Import or export the quick replies library as a YAML list of "
                      "{title, text, language, tags}. FILE '-' means stdin or stdout."))
    actions = parser.add_subparsers(title=_("actions"), metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import", help=_("add or update replies from a YAML file"),
        description=_("Add replies from FILE, updating those with the same title and language. "
                      "Nothing is stored unless every entry is valid."))
    imp.add_argument("file", metavar="FILE", help=_("the YAML file, or - for stdin"))
    imp.set_defaults(func=run_import)
    exp = actions.add_parser(
        "export", help=_("write every reply to a YAML file"),
        description=_("Write the whole library to FILE as YAML (UTF-8)."))
    exp.add_argument("file", metavar="FILE", help=_("the YAML file, or - for stdout"))
    exp.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from console.cli import load

    config = load(args)
    text = _read(args.file)
    store = open_store(config, args.db)
    try:
        count = store.import_quick_replies(text)
    finally:
        store.close()
    print(_("Imported {count} quick replies.").format(count=count), file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from console.cli import load

    config = load(args)
    store = open_store(config, args.db)
    try:
        text = store.export_quick_replies()
    finally:
        store.close()
    if args.file == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_atomically(Path(args.file), text)
        print(_("Exported the quick replies to {path}.").format(path=args.file), file=sys.stderr)
    return 0


def _read(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(name).read_bytes()
        except OSError as err:
            raise SwitchboardError(_("Cannot read {path}: {reason}").format(
                path=name, reason=err.strerror or err)) from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SwitchboardError(_("{path} is not UTF-8 text.").format(
            path=_("standard input") if name == "-" else name)) from err


def _write_atomically(path: Path, text: str) -> None:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise SwitchboardError(_("Cannot write {path}: {reason}").format(
            path=path, reason=err.strerror or err)) from err
