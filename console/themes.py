"""Themes are data: ``themes/*.yaml`` files turned into ``textual.theme.Theme`` objects.

The YAML keys are exactly ``Theme``'s fields, so a user can copy a file and tweak it.
The chosen theme persists in the store (``ui.theme``) so it follows the operator to
the next start; the config file's ``theme`` is only the first-start default.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.theme import Theme

from storage.i18n import _

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"
STATE_KEY = "ui.theme"
DEFAULT_THEME = "switchboard-dark"
SHIPPED = ("switchboard-dark", "switchboard-light", "switchboard-high-contrast")

_FIELDS = {f.name for f in fields(Theme)}


class ThemeFileError(ValueError):
    """A theme file that cannot become a Theme; the message names the file and the problem."""


def theme_from_mapping(data: Any, source: str) -> Theme:
    """Build a Theme from a parsed YAML mapping, refusing unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise ThemeFileError(_("{source}: a theme file must be a mapping.").format(source=source))
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeFileError(_("{source}: unknown theme keys: {keys}.").format(
            source=source, keys=", ".join(unknown)))
    if not data.get("name") or not data.get("primary"):
        raise ThemeFileError(_("{source}: a theme needs a name and a primary colour.").format(
            source=source))
    values = dict(data)
    values["variables"] = {str(k): str(v) for k, v in (values.get("variables") or {}).items()}
    return Theme(**values)


def load_themes(directory: Path = THEMES_DIR) -> list[Theme]:
    """Every ``*.yaml`` theme in ``directory``, sorted by file name."""
    import yaml  # not before the console's first frame (console.launch)

    themes = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise ThemeFileError(_("{source}: not valid YAML: {err}").format(
                source=path.name, err=err)) from err
        themes.append(theme_from_mapping(data, path.name))
    return themes


def register_themes(app: Any, directory: Path = THEMES_DIR) -> list[str]:
    """Register the shipped themes on ``app``; returns their names."""
    return register(app, load_themes(directory))


def register(app: Any, themes: list[Theme]) -> list[str]:
    """Register ``themes`` (loaded by :func:`load_themes`) on ``app``; returns their names."""
    for theme in themes:
        app.register_theme(theme)
    return [theme.name for theme in themes]


def initial_theme(saved: str | None, configured: str | None, available: list[str]) -> str:
    """The theme to start with: the persisted choice, else the config's, else the default."""
    for name in (saved, configured):
        if name and name in available:
            return name
    return DEFAULT_THEME
