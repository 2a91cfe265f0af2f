"""The YAML half of the config: composed nodes with their positions, and errors that name them.

``yaml.compose`` keeps every node's start mark, so a problem found later (by the
pydantic models in :mod:`console.config_schema`) can be traced back to the line and
column where it was written: :func:`node_at` follows a validation error's location
(``("channels", 1, "options", "tokne")``) down the node tree. Duplicate keys are
refused at every depth (YAML itself keeps the last one silently). Values are
described by type in errors, never quoted: the config file holds tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from storage.i18n import _

Loc = Sequence[str | int]


class ConfigError(Exception):
    """A configuration problem; ``str()`` names the file, the line, the column and the key."""

    def __init__(self, path: Path | None, line: int | None, key: str, message: str,
                 column: int | None = None) -> None:
        self.path, self.line, self.column, self.key, self.message = path, line, column, key, message
        where = str(path) if path else _("<configuration>")
        if line:
            where = f"{where}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def dotted(loc: Loc) -> str:
    """``("channels", 1, "options", "token")`` → ``channels[1].options.token``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# The YAML constructs whose *start* is the cause when the parser fails further on.
_OPENERS = {
    "while parsing a flow sequence": lambda: _("a list opened with [ here is not closed "
                                               "properly"),
    "while parsing a flow mapping": lambda: _("a mapping opened with a brace here is not "
                                              "closed properly"),
    "while scanning a quoted scalar": lambda: _("a quoted text starting here has no closing "
                                                "quote"),
}


def compose(text: str, path: Path | None) -> yaml.Node | None:
    """The document's root node; a YAML syntax error becomes a :class:`ConfigError`.

    An unclosed ``[``, ``{`` or quote is reported where it *starts* (line and column),
    not where the parser gave up (often the end of the file)."""
    loader = yaml.SafeLoader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        opener = _OPENERS.get(err.context or "")
        problem = err.problem or err.context or _("invalid YAML")
        if opener is not None and err.context_mark is not None:
            mark, found = err.context_mark, err.problem_mark
            detail = _("{what} ({problem}, line {line} column {column})").format(
                what=opener(), problem=problem, line=found.line + 1 if found else "?",
                column=found.column + 1 if found else "?")
        else:
            mark, detail = err.problem_mark or err.context_mark, problem
        raise ConfigError(path, mark.line + 1 if mark else None, "",
                          _("not valid YAML: {problem}").format(problem=detail),
                          column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise ConfigError(path, None, "", _("not valid YAML: {problem}").format(
            problem=err.__class__.__name__)) from None
    finally:
        loader.dispose()


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"))


def fail(path: Path | None, node: yaml.Node | None, key: str, message: str) -> ConfigError:
    if node is None:
        return ConfigError(path, None, key, message)
    return ConfigError(path, node.start_mark.line + 1, key, message,
                       column=node.start_mark.column + 1)


def check_duplicates(node: yaml.Node, path: Path | None, loc: tuple[str | int, ...] = ()) -> None:
    """A key written twice anywhere below ``node`` is an error (YAML keeps the last)."""
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            check_duplicates(item, path, (*loc, index))
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise fail(path, key_node, dotted(loc) or _("file"), _("keys must be plain names."))
            key = str(key_node.value)
            if key in seen:
                raise fail(path, key_node, dotted((*loc, key)), _(
                    "appears twice (first on line {line}).").format(
                        line=seen[key].start_mark.line + 1))
            seen[key] = key_node
            check_duplicates(value_node, path, (*loc, key))


def to_data(node: yaml.Node, path: Path | None) -> Any:
    """The composed document as Python data (values are never quoted in errors)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConfigError(path, mark.line + 1 if mark else None, "", _(
            "cannot read this value ({kind}).").format(kind=err.__class__.__name__),
            column=mark.column + 1 if mark else None) from None
    finally:
        loader.dispose()


def node_at(root: yaml.Node, loc: Loc, *, key: bool = False) -> yaml.Node:
    """The node a validation error's location points at: the deepest one that exists.

    With ``key`` the last step's *key* node is returned (an unknown key is reported
    where the key is written, not its value)."""
    node = root
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and 0 <= part < len(node.value):
            node = node.value[part]
            continue
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if found is not None:
                node = found[0] if key and last else found[1]
                continue
        break  # a missing key or index: the enclosing node is where it belongs
    return node


def type_name(value: Any) -> str:
    """A value's kind in words, never the value itself (it may be a secret)."""
    if value is None:
        return _("null")
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list | tuple):
        return _("a list")
    if isinstance(value, dict):
        return _("a mapping")
    return _("a {type}").format(type=type(value).__name__)
