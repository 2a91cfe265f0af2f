"""What the console's first frame needs, remembered from the last start (issue 20).

Validating the config (pydantic) and loading the store (peewee) take ~0.5 s before a
console can draw anything (bench/PROFILE.md §12–§13). So once a console is up, it
writes down what its first frame showed apart from the tasks themselves: the SQLite
file, the query of the newest tasks (written from the models), the inbox's starting
filter and its label, the language, the theme, the keys, the channel tags and the
status bar's operator. The next start with the same config draws the real task list
from that record and the file (:mod:`storage.launch_page`) before it validates
anything, and the real inbox replaces it once the config and the store are loaded
(:mod:`console.launch`).

A record is a cache of what the validated config and the store produced, never a
second source of settings:

- it is only used when the config file's bytes, the ``--db`` option and the directory
  it was given in, the environment that decides the default paths and the task columns
  are what they were when it was written (:func:`launch_key`), and the database still
  has the recorded schema;
- it is only written for a SQLite file;
- a missing, unreadable or stale record only means the start draws nothing early.

No secret goes in it (no channel settings, no URL with a password: only a file path).
This module imports nothing heavy: it runs before Textual's first frame.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from console.config_location import default_config_path
from storage.convert import TASK_COLUMNS
from storage.inputs import TaskFilter

FORMAT = 1
# What decides the default config, data and cache paths (platformdirs) and the language.
_ENVIRONMENT = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "LANGUAGE", "LC_ALL",
                "LC_MESSAGES", "LANG")


@dataclass(frozen=True)
class LaunchRecord:
    """Everything the first frame shows apart from the task rows (see the module doc)."""

    key: str
    database: str  # the SQLite file
    schema_version: int
    # Store.launch_statements(): the schema version's SQL, the newest tasks' SQL
    statements: tuple[str, str]
    task_filter: TaskFilter
    filter_label: str
    language: str | None
    theme: dict[str, Any] | None  # a registered theme's fields; None: one of Textual's own
    theme_name: str
    keys: dict[str, str] = field(default_factory=dict)
    channel_tags: dict[str, str] = field(default_factory=dict)
    operator: str = ""
    role: str = ""
    connection: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["format"] = FORMAT
        data["task_columns"] = list(TASK_COLUMNS)
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LaunchRecord | None:
        """The record in ``text``; None when it is not one this code wrote."""
        try:
            data = json.loads(text)
            if (not isinstance(data, dict) or data.pop("format", None) != FORMAT
                    or data.pop("task_columns", None) != list(TASK_COLUMNS)):
                return None
            wanted = {f.name for f in fields(cls)}
            if set(data) != wanted:
                return None
            raw_filter = data["task_filter"]
            if raw_filter.get("statuses") is not None:
                raw_filter["statuses"] = tuple(raw_filter["statuses"])
            data["task_filter"] = TaskFilter(**raw_filter)
            data["statements"] = tuple(data["statements"])
            return cls(**data)
        except (ValueError, TypeError, AttributeError, KeyError):
            return None


def launch_key(config_path: Path | None, db_option: str | None) -> str:
    """What a record is only valid for: this config file's path and bytes, this
    ``--db`` from this directory, the environment behind the default paths, the task
    columns."""
    digest = hashlib.sha256()
    path = _config_path(config_path)
    try:
        content = path.read_bytes()
    except OSError:
        content = b"\0missing"
    # The working directory: ``--db desk.db`` names another file in another directory.
    for part in (str(path), db_option or "", os.getcwd(),
                 *(os.environ.get(k, "") for k in _ENVIRONMENT), ",".join(TASK_COLUMNS)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(content)
    return digest.hexdigest()


def record_path(config_path: Path | None, db_option: str | None) -> Path:
    """Where the record for this config and ``--db`` lives (the user's cache directory)."""
    from platformdirs import user_cache_dir

    where = f"{_config_path(config_path)}\0{db_option or ''}\0{os.getcwd()}"  # as the key
    name = hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return Path(user_cache_dir("switchboard", appauthor=False)) / "launch" / f"{name}.json"


def read_record(config_path: Path | None, db_option: str | None) -> LaunchRecord | None:
    """The valid record for this start, or None (none yet, unreadable, or stale)."""
    try:
        text = record_path(config_path, db_option).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    record = LaunchRecord.from_json(text)
    if record is None or record.key != launch_key(config_path, db_option):
        return None
    return record


def write_record(config_path: Path | None, db_option: str | None, record: LaunchRecord) -> None:
    """Store ``record`` for the next start (atomically; readable by this user only)."""
    path = record_path(config_path, db_option)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(record.to_json())
    os.replace(temporary, path)


def forget_record(config_path: Path | None, db_option: str | None) -> None:
    """Remove the record (the console could not start from it)."""
    try:
        record_path(config_path, db_option).unlink()
    except OSError:
        pass


def _config_path(config_path: Path | None) -> Path:
    if config_path is not None:
        return Path(config_path).expanduser().absolute()
    return default_config_path()
