"""Reading composed YAML nodes with their positions: the typed-value half of the config.

``yaml.compose`` keeps every node's start mark, so each value read here can name its
line when it is wrong. Values are described by type in errors, never quoted: the
config file holds tokens. Duplicate keys are refused at every depth (YAML itself keeps
the last one silently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from storage.i18n import _


class ConfigError(Exception):
    """A configuration problem; ``str()`` names the file, the line and the key."""

    def __init__(self, path: Path | None, line: int | None, key: str, message: str) -> None:
        self.path, self.line, self.key, self.message = path, line, key, message
        where = str(path) if path else _("<configuration>")
        if line:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class NodeReader:
    """Typed access to YAML nodes; every failure is a :class:`ConfigError` with a line."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text, self.path = text, path
        self.warnings: list[str] = []
        self.loader = yaml.SafeLoader(text)

    def fail(self, node: yaml.Node | None, key: str, message: str) -> ConfigError:
        line = node.start_mark.line + 1 if node is not None else None
        return ConfigError(self.path, line, key, message)

    def mapping(self, node: yaml.Node, where: str,
                allowed: tuple[str, ...] | None = None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key, with duplicate and (if ``allowed``) unknown keys refused."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where or _("file"), _("expected a mapping of keys to values."))
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, where, _("keys must be plain names."))
            key = str(key_node.value)
            here = f"{where}.{key}" if where else key
            if key in out:
                raise self.fail(key_node, here, _("appears twice (first on line {line}).").format(
                    line=out[key][0].start_mark.line + 1))
            if allowed is not None and key not in allowed:
                raise self.fail(key_node, here, _("unknown key; known keys: {keys}.").format(
                    keys=", ".join(allowed)))
            out[key] = (key_node, value_node)
        return out

    def plain(self, node: yaml.Node, where: str, mapping: bool = False) -> Any:
        """Any YAML value as Python data (option values are never quoted back)."""
        if mapping and not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, _("expected a mapping of keys to values."))
        self.no_duplicates(node, where)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            raise self.fail(node, where, _("cannot read this value ({kind}).").format(
                kind=err.__class__.__name__)) from None

    def no_duplicates(self, node: yaml.Node, where: str) -> None:
        """A key written twice anywhere below ``node`` is an error (YAML keeps the last)."""
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.no_duplicates(item, f"{where}[{index}]")
        elif isinstance(node, yaml.MappingNode):
            for key, (_k, value) in self.mapping(node, where).items():
                self.no_duplicates(value, f"{where}.{key}")

    def scalar(self, node: yaml.Node, where: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, where, _("expected a single value, not a list or mapping."))
        return self.plain(node, where)

    def string(self, node: yaml.Node, where: str) -> str:
        value = self.scalar(node, where)
        if not isinstance(value, str):
            raise self.fail(node, where, _("expected text, got {type}.").format(
                type=_type_name(value)))
        return value

    def optional_str(self, node: yaml.Node, where: str) -> str | None:
        value = self.scalar(node, where)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(node, where, _("expected text or null, got {type}.").format(
                type=_type_name(value)))
        return value

    def boolean(self, node: yaml.Node, where: str) -> bool:
        value = self.scalar(node, where)
        if not isinstance(value, bool):
            raise self.fail(node, where, _("expected true or false, got {type}.").format(
                type=_type_name(value)))
        return value

    def integer(self, node: yaml.Node, where: str, low: int, high: int) -> int:
        value = self.scalar(node, where)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(node, where, _("expected a whole number, got {type}.").format(
                type=_type_name(value)))
        if not low <= value <= high:
            raise self.fail(node, where, _("must be between {low} and {high}.").format(
                low=low, high=high))
        return value


def _type_name(value: Any) -> str:
    """A value's kind in words, never the value itself (it may be a secret)."""
    if value is None:
        return _("null")
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("a mapping")
    return _("a {type}").format(type=type(value).__name__)
