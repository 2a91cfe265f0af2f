"""The Russian translation is complete, consistent with the code, compiled, and shown.

Users come from a Russian product and serve Russian-speaking clients, so an English
string left in the console is a defect. These tests fail with the file and line of a
string that is new and untranslated, name a translation whose placeholders differ from
the English (``str.format`` would raise ``KeyError`` on screen), catch a stale .mo, and
open the console in Russian.
"""

from __future__ import annotations

import gettext
import importlib.util
import io
import json
import os
import string
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import SwitchboardApp  # imported here, in the session's language
from console.config import Config, OperatorConfig
from console.keymap import binding_groups
from storage import i18n
from storage.i18n import _, ngettext, set_language
from storage.store import Store
from tests.console.conftest import fill, frozen_clock, settle

ROOT = Path(__file__).resolve().parent.parent
RU = ROOT / "storage" / "locale" / "ru" / "LC_MESSAGES"

# Binding labels are translated when their class is created: import every module that
# binds keys now, in the session's language, so the Russian tests below cannot freeze
# them in Russian for the tests that run after (the keyboard reference, say).
binding_groups()

_spec = importlib.util.spec_from_file_location("compile_translations",
                                               ROOT / "scripts" / "compile_translations.py")
assert _spec and _spec.loader
ct = importlib.util.module_from_spec(_spec)
sys.modules["compile_translations"] = ct  # dataclasses look their module up by name
_spec.loader.exec_module(ct)


@pytest.fixture(scope="module")
def scan() -> ct.Scan:
    return ct.scan_code()


@pytest.fixture(scope="module")
def catalog() -> dict[str, ct.Entry]:
    return ct.read_po(RU / "switchboard.po")


@pytest.fixture
def russian() -> Iterator[None]:
    """Russian for the test, and always the previous language afterwards."""
    before = i18n._translation
    set_language("ru")
    try:
        yield
    finally:
        i18n._translation = before


def placeholders(text: str) -> set[str]:
    """The ``{field!conv:spec}`` parts ``str.format`` will fill."""
    return {f"{name}!{conv}:{spec}" for _lit, name, spec, conv in string.Formatter().parse(text)
            if name is not None}


# ---- (a) every string in the code is translated -----------------------------------------

def test_every_source_string_has_a_russian_translation(scan: ct.Scan,
                                                       catalog: dict[str, ct.Entry]) -> None:
    assert len(scan.strings) > 300  # the scan really reads the code
    missing = [f"{src.place}: {msgid!r}" for msgid, src in scan.strings.items()
               if msgid not in catalog or not catalog[msgid].translated]
    assert not missing, ("untranslated (run scripts/compile_translations.py --extract and "
                         "translate storage/locale/ru/LC_MESSAGES/switchboard.po):\n"
                         + "\n".join(missing))


def test_plural_strings_have_every_russian_form(scan: ct.Scan,
                                                catalog: dict[str, ct.Entry]) -> None:
    plurals = {m: s for m, s in scan.strings.items() if s.plural is not None}
    assert plurals, "the code uses ngettext; the scan must find it"
    wrong = [f"{src.place}: {msgid!r}" for msgid, src in plurals.items()
             if catalog.get(msgid, ct.Entry()).plural != src.plural
             or len(catalog[msgid].strs) != 3]
    assert not wrong, "plural entries need msgid_plural and 3 forms:\n" + "\n".join(wrong)


def test_every_variable_argument_to_the_translator_is_declared(scan: ct.Scan) -> None:
    """``_(variable)`` escapes extraction; its values must be declared in DEFERRED."""
    unknown = [f"{f}:{n}: _({expr})" for f, n, expr in scan.dynamic
               if (f, expr) not in ct.DYNAMIC_CALLS]
    assert not unknown, ("a variable reaches _(): declare its strings in DEFERRED and the "
                         "call in DYNAMIC_CALLS (scripts/compile_translations.py):\n"
                         + "\n".join(unknown))


def test_scan_reports_new_strings_with_their_place(tmp_path: Path) -> None:
    """The checks above can fail: a new string, plural or variable is found and placed."""
    (tmp_path / "widgets").mkdir()
    (tmp_path / "widgets" / "new.py").write_text(
        'from storage.i18n import _, ngettext\n'
        'A = _("A brand new label")\n'
        'B = ngettext("{n} cat", "{n} cats", 2)\n'
        'C = _(A)\n', encoding="utf-8")
    found = ct.scan_code(tmp_path)
    assert found.strings["A brand new label"] == ct.Source("widgets/new.py:2")
    assert found.strings["{n} cat"] == ct.Source("widgets/new.py:3", "{n} cats")
    assert found.dynamic == [("widgets/new.py", 4, "A")]


def test_deferred_strings_are_extracted(scan: ct.Scan) -> None:
    from storage.constants import STATUS_LABELS
    from storage.models import ROLES

    for text in [*STATUS_LABELS.values(), *ROLES, "ok", "degraded"]:
        assert text in scan.strings, text


# ---- (b) placeholders -------------------------------------------------------------------

def test_translations_keep_the_placeholders(catalog: dict[str, ct.Entry]) -> None:
    bad = []
    for msgid, entry in catalog.items():
        sources = [msgid] if entry.plural is None else [msgid, entry.plural]
        expected = set().union(*(placeholders(s) for s in sources))
        for form in entry.strs:
            if form and placeholders(form) != expected:
                bad.append(f"{msgid!r}: {sorted(expected)} != {sorted(placeholders(form))}")
    assert not bad, "\n".join(bad)


def test_placeholder_check_can_fail() -> None:
    assert placeholders("Task #{number}") != placeholders("Задача №{numer}")
    assert placeholders("{n:02d}") != placeholders("{n}")


# ---- (c) the .mo is compiled from the .po -------------------------------------------------

def test_compiled_catalog_is_up_to_date(catalog: dict[str, ct.Entry]) -> None:
    fresh = ct.compile_mo(catalog, "ru")
    assert (RU / "switchboard.mo").read_bytes() == fresh, (
        "switchboard.mo is stale: run python scripts/compile_translations.py")
    parsed = gettext.GNUTranslations(io.BytesIO(fresh))
    assert parsed.gettext("Mine") == catalog["Mine"].strs[0]
    assert parsed.ngettext("{n} task", "{n} tasks", 5) == catalog["{n} task"].strs[2]


def test_po_round_trips(tmp_path: Path, catalog: dict[str, ct.Entry]) -> None:
    """Writing and reading the .po loses nothing (quotes, newlines, plural forms)."""
    copy = tmp_path / "switchboard.po"
    extra = {"Say \"hi\"\\n\tnow": ct.Entry(None, ["Скажи \"привет\"\\n\tсейчас"])}
    ct.write_po(copy, "ru", {**catalog, **extra}, {})
    assert ct.read_po(copy) == {**catalog, **extra}


# ---- (d) switching the language -----------------------------------------------------------

def test_set_language_switches_both_ways(russian: None) -> None:
    assert _("Mine") == "Мои"
    assert _("Status: {status}").format(status=_("New")) == "Статус: Новая"
    assert [ngettext("{n} task", "{n} tasks", n).format(n=n) for n in (1, 3, 5, 21, 111)] == [
        "1 задача", "3 задачи", "5 задач", "21 задача", "111 задач"]
    set_language("en")
    assert _("Mine") == "Mine"
    assert ngettext("{n} task", "{n} tasks", 2).format(n=2) == "2 tasks"
    set_language("ru")
    assert _("Search") == "Поиск"


def test_the_web_chat_page_says_which_language_it_is_in(russian: None) -> None:
    """Its ``lang`` follows the strings (it said "en" over Russian text: a screen reader
    read the Russian with English rules, and browsers offered to translate it)."""
    from connectors.webchat.page_render import render_page

    template = (Path(__file__).parents[1] / "connectors" / "webchat" / "page.html").read_text()
    html = render_page(template, "web", None, 1024, ()).text
    assert '<html lang="ru">' in html and "Напишите" in html
    assert i18n.language() == "ru"
    set_language("en")
    html = render_page(template, "web", None, 1024, ()).text
    assert '<html lang="en">' in html and "Chat with us" in html
    assert i18n.language() == "en"
    set_language("xx")  # no catalog: the source language
    assert i18n.language() == "en"


# ---- (e) the console in Russian -----------------------------------------------------------

def screen_lines(app) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


async def test_console_in_russian(russian: None, tmp_path: Path) -> None:
    """Labels computed at run time (status bar, filter bar, composer, task list)."""
    store = Store.open(str(tmp_path / "ru.db"))
    try:
        data = fill(store)
        config = Config(operator=OperatorConfig("Anna", "operator"), language="ru")
        app = SwitchboardApp(store, config, data.anna, clock=frozen_clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = "\n".join(screen_lines(app))
            assert "Фильтр: Все (открытые)" in screen or "Фильтр: Мои (открытые)" in screen
            assert "(оператор)" in screen and "каналы выкл." in screen
            assert "Откройте задачу, чтобы писать" in screen
            assert "свободна" in screen or " — " in screen  # the unassigned marker
            await pilot.press("1")
            await settle(pilot)
            assert "Фильтр: Мои (открытые)" in "\n".join(screen_lines(app))
            await pilot.press("3", "enter")
            await settle(pilot)
            screen = "\n".join(screen_lines(app))
            assert "Ответ: " in screen  # the composer names the client: "Ответ: Имя · Канал"
            assert "Filter:" not in screen and "Reply to" not in screen
    finally:
        store.close()


_SUBPROCESS = textwrap.dedent("""
    import asyncio, json, sys
    from console import cli

    args = cli.build_parser().parse_args(["--config", sys.argv[1]])
    config = cli.load(args)            # sets the language from the file, as in production
    from console.app import SwitchboardApp
    from console.bootstrap import current_operator
    from storage.store import Store

    async def main():
        store = Store.open(sys.argv[2])
        app = SwitchboardApp(store, config, current_operator(store, config))
        async with app.run_test(size=(120, 35)) as pilot:
            for _ in range(4):
                await app.workers.wait_for_complete()
                await pilot.pause()
            strips = app.screen._compositor.render_strips()
            lines = ["".join(s.text for s in strip) for strip in strips]
        store.close()
        print(json.dumps(lines))

    asyncio.run(main())
""")


def test_console_footer_in_russian_from_the_config(tmp_path: Path) -> None:
    """``language: ru`` in the config translates the key bindings too.

    Binding labels are evaluated when their module is imported, so the CLI must set the
    language before importing the console; a fresh process proves the real order.
    """
    store = Store.open(str(tmp_path / "ru.db"))
    store.ensure_channel("webchat", "web")
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text("operator: {name: Анна, role: operator}\nlanguage: ru\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "C.UTF-8"
    done = subprocess.run([sys.executable, "-c", _SUBPROCESS, str(config),
                           str(tmp_path / "ru.db")], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout.strip().splitlines()[-1])
    footer = lines[-1]
    for label in ("Открыть", "Отметить", "Контакт", "Справка", "Поиск", "команды"):
        assert label in footer, footer
    for english in ("Open task", "Mark task", "Contact", "Help", "Search", "palette"):
        assert english not in footer, footer
    assert "Фильтр:" in "\n".join(lines)
    assert "Анна (оператор)" in "\n".join(lines)
