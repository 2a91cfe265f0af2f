"""The one translation function every user-facing string goes through.

English is the source language. Catalogs live in ``storage/locale/<lang>/LC_MESSAGES``;
the language comes from the usual gettext environment (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``) or from :func:`set_language`. The storage layer is the
bottom of the dependency graph, so the function lives here where every room may
import it.
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "switchboard"
LOCALE_DIR = Path(__file__).with_name("locale")

_translation: gettext.NullTranslations = gettext.translation(
    DOMAIN, localedir=LOCALE_DIR, fallback=True
)


def set_language(language: str | None) -> None:
    """Switch every later call of :func:`_` to ``language`` (None: the environment's)."""
    global _translation
    languages = [language] if language else None
    _translation = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=languages, fallback=True)


def language() -> str:
    """The language strings are shown in now (its catalog's ``Language``; English, the
    source, when no catalog matched): for a page's ``lang`` attribute."""
    return str(_translation.info().get("language") or "en")


def _(message: str) -> str:
    """Translate ``message`` (an English source string)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
