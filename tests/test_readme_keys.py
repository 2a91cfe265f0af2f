"""README.md's keyboard reference is the one the console's bindings produce."""

from __future__ import annotations

from console.keymap import README_PATH, readme_with_keys


def test_readme_keyboard_section_matches_the_bindings() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert readme_with_keys(readme) == readme, "run: python -m console.keymap"
