"""README.md's keyboard reference is the one the console's bindings produce."""

from __future__ import annotations

import pytest

from console.keymap import README_PATH, readme_with_keys


def test_readme_keyboard_section_matches_the_bindings() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert readme_with_keys(readme) == readme, "run: python -m console.keymap"


def test_bindings_are_collected_without_importing_the_app() -> None:
    """The keymap walks the screens and widgets packages; the app module stays unloaded."""
    import json
    import subprocess
    import sys

    probe = ("import json, sys\nfrom console.keymap import binding_groups\n"
             "groups = binding_groups()\n"
             "print(json.dumps(['console.app' in sys.modules, [g for g, _b in groups]]))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, env={"LANGUAGE": "en", "PATH": ""},
                            cwd=README_PATH.parent)
    assert result.returncode == 0, result.stderr
    app_loaded, groups = json.loads(result.stdout.strip().splitlines()[-1])
    assert app_loaded is False
    assert groups == ["Everywhere", "Inbox", "Supervisor view", "Task list", "Conversation",
                      "Composer", "Quick-replies picker", "Dialogs"]


def test_the_app_binds_the_same_table_the_reference_reads() -> None:
    from console.app import SwitchboardApp
    from console.keymap import APP_BINDINGS, known_ids

    assert SwitchboardApp.BINDINGS is APP_BINDINGS
    assert {"app.help", "tasks.next", "composer.send", "dialog.cancel",
            "supervisor.filter_operator"} <= known_ids()


def test_a_class_in_an_unknown_group_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.binding import Binding
    from textual.widget import Widget

    from console import keymap

    class Stray(Widget):
        KEYMAP_GROUP = "nowhere"
        BINDINGS = [Binding("x", "stray", "Stray", id="stray.x")]

    monkeypatch.setattr(keymap, "bound_classes", lambda: [("nowhere", Stray)])
    with pytest.raises(ValueError, match="nowhere"):
        keymap.binding_groups()
