"""The rows an ingest returns, read back cheaply (issue 20).

``Store.ingest_many`` answers each message with an :class:`~storage.rows.IngestResult`
(the stored message and its task, as :meth:`storage.reading.Reads.get_messages` and
``get_tasks`` give them). Reading them through peewee built a model object per row and
was a quarter of the group-commit writer's time (bench/PROFILE.md §8). Here the same
rows come from two tuple queries whose SQL is written once from the models
(:mod:`storage.prepared`), and attachments are only asked for messages that may have
some (a message ingest has just written without attachments has none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.convert import TASK_COLUMNS, frozen, task_row_from_db
from storage.models import JSONField, TimeField
from storage.prepared import column, columns, marks, table
from storage.rows import AttachmentRow, MessageRow, TaskRow

if TYPE_CHECKING:
    from storage.core import StoreCore

# MessageRow's fields in the order of the message query: (row field, model field).
_MESSAGE = (("id", "id"), ("task_id", "task"), ("kind", "kind"), ("text", "text"),
            ("created_at", "created_at"), ("author_operator_id", "author_operator"),
            ("author_contact_id", "author_contact"), ("channel_id", "channel"),
            ("external_id", "external_id"), ("delivery_state", "delivery_state"),
            ("failure_reason", "failure_reason"), ("attempts", "attempts"),
            ("edited", "edited"), ("moved_from_task_id", "moved_from"),
            ("meta", "meta"), ("chat_id", "chat_id"))


class ResultRows:
    """Messages and tasks by id, as plain rows, without a peewee object per row."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m = core.m
        self._sql: dict[tuple[str, int], str] = {}
        fields = core.m.Message._meta.fields
        # Only the model's conversions that change a value (times, JSON); None: as read.
        self._convert: list[tuple[str, Any]] = [
            (name, fields[f].python_value if isinstance(fields[f], (TimeField, JSONField))
             else None) for name, f in _MESSAGE]
        self._convert.append(("author_operator_name", None))

    def read(self, message_ids: list[int], task_ids: list[int],
             with_attachments: set[int]) -> tuple[dict[int, MessageRow], dict[int, TaskRow]]:
        """The messages and the tasks by id; only the messages in ``with_attachments``
        are asked for their attachments."""
        mids = list(dict.fromkeys(message_ids))
        tids = list(dict.fromkeys(task_ids))
        return self._messages(mids, with_attachments), self._tasks(tids)

    def _messages(self, ids: list[int], with_attachments: set[int]) -> dict[int, MessageRow]:
        if not ids:
            return {}
        asked = [i for i in ids if i in with_attachments]
        atts: dict[int, tuple[AttachmentRow, ...]] = {}
        if asked:
            atts = {i: r.attachments for i, r in self.core.reads.get_messages(asked).items()}
        out: dict[int, MessageRow] = {}
        for r in self.core.db.execute_sql(self._sql_for("message", len(ids)), ids):
            values = {name: conv(v) if conv is not None and v is not None else v
                      for (name, conv), v in zip(self._convert, r, strict=True)}
            values["edited"] = bool(values["edited"])
            values["meta"] = dict(values["meta"] or {})
            values["author_operator_name"] = values["author_operator_name"] or ""
            values["attachments"] = atts.get(values["id"], ())
            out[values["id"]] = frozen(MessageRow, values)
        return out

    def _tasks(self, ids: list[int]) -> dict[int, TaskRow]:
        if not ids:
            return {}
        rows = (task_row_from_db(r) for r in self.core.db.execute_sql(
            self._sql_for("task", len(ids)), ids))
        return {row.id: row for row in rows}

    def _sql_for(self, name: str, count: int) -> str:
        """The ``name`` query for ``count`` ids, written from the models once."""
        sql = self._sql.get((name, count))
        if sql is None:
            sql = self._sql[(name, count)] = self._write(name, marks(self.core.db, count))
        return sql

    def _write(self, name: str, ids: str) -> str:
        m = self.m
        if name == "message":
            O = m.Operator  # noqa: E741 - the model's initial, as elsewhere
            M = m.Message
            return (f"SELECT {columns(M, tuple(f for _n, f in _MESSAGE), 'm')}, "
                    f"o.{column(O, 'name')} FROM {table(M)} m "
                    f"LEFT JOIN {table(O)} o ON o.{column(O, 'id')} = "
                    f"m.{column(M, 'author_operator')} WHERE m.{column(M, 'id')} IN ({ids})")
        return f"{self._task_select()} WHERE t.{column(m.Task, 'id')} IN ({ids})"

    def _task_select(self) -> str:
        """Tasks as :func:`storage.convert.task_row_from_db` reads them: every task
        column, then the contact's name, the channel's kind and name, the assignee's."""
        m = self.m
        T, C, Ch, O = m.Task, m.Contact, m.Channel, m.Operator  # noqa: E741 - initials
        return (f"SELECT {', '.join(f't.{c}' for c in TASK_COLUMNS)}, c.{column(C, 'name')}, "
                f"ch.{column(Ch, 'kind')}, ch.{column(Ch, 'name')}, o.{column(O, 'name')} "
                f"FROM {table(T)} t "
                f"LEFT JOIN {table(C)} c ON c.{column(C, 'id')} = t.{column(T, 'contact')} "
                f"LEFT JOIN {table(Ch)} ch ON ch.{column(Ch, 'id')} = t.{column(T, 'channel')} "
                f"LEFT JOIN {table(O)} o ON o.{column(O, 'id')} = t.{column(T, 'assignee')}")

    def schema_version_sql(self) -> str:
        """The schema's version as :func:`storage.database.schema_version` reads it."""
        KV = self.m.KeyValue
        return (f"SELECT {column(KV, 'value')} FROM {table(KV)} "
                f"WHERE {column(KV, 'key')} = 'schema_version'")

    def newest_tasks_sql(self) -> str:
        """Every task, newest activity first (the task list's order), one ``?``: the
        limit. The console's first frame reads it with no ORM (:mod:`storage.launch_page`)."""
        T = self.m.Task
        return (f"{self._task_select()} ORDER BY t.{column(T, 'last_activity_at')} DESC, "
                f"t.{column(T, 'id')} DESC LIMIT ?")
