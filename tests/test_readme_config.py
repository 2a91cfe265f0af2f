"""README.md's configuration reference is the one the config schema and plug-ins produce."""

from __future__ import annotations

import pytest

from console.config_reference import END, README_PATH, START, readme_with_reference, render


def test_readme_configuration_section_matches_the_schema() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    assert readme_with_reference(readme) == readme, "run: python -m console.config_reference"


def test_the_reference_names_every_key_and_every_kind() -> None:
    from connectors.registry import PACKAGES
    from console.config_schema import ConfigFile, ServerConfig

    text = render()
    assert text.startswith(START) and text.endswith(END)
    for name in ConfigFile.__pydantic_fields__:
        assert f"| `{name}` |" in text
    for name in ServerConfig.__pydantic_fields__:
        assert f"| `server.{name}` |" in text
    for kind in PACKAGES:
        assert f"| `{kind}` |" in text
    assert "| `telegram` | yes | `token` (text," in text


def test_a_stale_reference_is_caught() -> None:
    readme = README_PATH.read_text(encoding="utf-8")
    stale = readme.replace("| `server.header_timeout` | number | `10.0` |",
                           "| `server.header_timeout` | number | `5.0` |")
    assert stale != readme
    assert readme_with_reference(stale) == readme
    with pytest.raises(ValueError):
        readme_with_reference("no markers here")
