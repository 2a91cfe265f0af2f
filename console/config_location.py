"""Where the config file is by default (the user's configuration directory).

Its own module so that the console's first frame (:mod:`console.launch_record`) can
name the file without importing the config's validator."""

from __future__ import annotations

from pathlib import Path


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("switchboard", appauthor=False)) / "config.yaml"
