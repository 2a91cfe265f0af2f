"""The operator's drafts, one per task: kept in memory for the composer, stored in a
thread off the UI loop.

The inbox tells the keeper what the composer holds (:meth:`DraftKeeper.changed`,
debounced by :data:`DEBOUNCE` seconds) and asks it what to put back when a task opens
again (:meth:`DraftKeeper.cached`, or :meth:`DraftKeeper.load` for a draft written in
an earlier run). Saves go through one writer, in order, latest text per task only; a
blank text deletes the draft (``store.drafts.save``). :meth:`DraftKeeper.flush_now`
writes what is pending at once (when the inbox closes, so a restart finds it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from textual.timer import Timer

from storage.errors import SwitchboardError
from storage.store import Store

log = logging.getLogger(__name__)

DEBOUNCE = 0.4  # seconds of quiet typing before a draft is stored
Draft = tuple[str, bool]  # text, private


class DraftKeeper:
    """Drafts of one operator: the ids with one, the texts seen this run, the writer."""

    def __init__(self, store: Store, operator_id: int, host: Any,
                 on_ids: Callable[[frozenset[int]], None]) -> None:
        self.store = store
        self.operator_id = operator_id
        self.host = host  # the screen: timers, workers, call_from_thread
        self.on_ids = on_ids  # told whenever the set of tasks with a draft changes
        self.ids: frozenset[int] = frozenset()
        self._texts: dict[int, Draft] = {}
        self._pending: dict[int, Draft] = {}
        self._lock = threading.Lock()  # guards _pending and _writing
        self._save_lock = threading.Lock()  # one save at a time, in order
        self._writing = False
        self._timer: Timer | None = None

    # ---- reading -------------------------------------------------------------------------
    def start(self) -> None:
        """Learn which tasks have a draft (a worker; the task list marks them)."""
        def load() -> None:
            ids = self.store.drafts.task_ids(self.operator_id)
            self.host.app.call_from_thread(self._ids_loaded, ids)
        self.host.run_worker(load, thread=True, group="drafts-load", exit_on_error=False)

    def _ids_loaded(self, ids: frozenset[int]) -> None:
        known = {i for i, (text, _p) in self._texts.items() if text.strip()}
        forgotten = {i for i, (text, _p) in self._texts.items() if not text.strip()}
        self._set_ids((frozenset(ids) | known) - forgotten)

    def cached(self, task_id: int) -> Draft | None:
        """The draft of ``task_id`` if known without asking the store ("", False: none)."""
        if task_id in self._texts:
            return self._texts[task_id]
        if task_id not in self.ids:
            return "", False
        return None

    def load(self, task_id: int, done: Callable[[Draft], None]) -> None:
        """Read a draft from the store in a worker; ``done`` runs on the UI loop."""
        def read() -> None:
            row = self.store.drafts.get(task_id, self.operator_id)
            draft = (row.text, bool(row.private)) if row is not None else ("", False)
            self.host.app.call_from_thread(self._loaded, task_id, draft, done)
        self.host.run_worker(read, thread=True, group="drafts-load", exit_on_error=False)

    def _loaded(self, task_id: int, draft: Draft, done: Callable[[Draft], None]) -> None:
        self._texts.setdefault(task_id, draft)
        done(self._texts[task_id])

    # ---- writing -------------------------------------------------------------------------
    def changed(self, task_id: int, text: str, private: bool) -> None:
        """The composer bound to ``task_id`` now holds ``text``: store it soon."""
        if self._texts.get(task_id, ("", False)) == (text, private) and task_id not in self._pending:
            return
        self._texts[task_id] = (text, private)
        with self._lock:
            self._pending[task_id] = (text, private)
        self._set_ids(self.ids | {task_id} if text.strip() else self.ids - {task_id})
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.host.set_timer(DEBOUNCE, self.flush)

    def flush(self) -> None:
        """Store what is pending now, in the writer thread."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        with self._lock:
            if self._writing or not self._pending:
                return
            self._writing = True
        self.host.run_worker(self._drain, thread=True, group="drafts-save", exit_on_error=False)

    def flush_now(self) -> None:
        """Store what is pending before returning (the inbox is closing)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        while self._save_one():
            pass

    def _drain(self) -> None:
        try:
            while self._save_one():
                pass
        finally:
            with self._lock:
                self._writing = False
                again = bool(self._pending)
            if again:
                self.host.app.call_from_thread(self.flush)

    def _save_one(self) -> bool:
        with self._save_lock:
            with self._lock:
                if not self._pending:
                    return False
                task_id = next(iter(self._pending))
                text, private = self._pending.pop(task_id)
            try:
                self.store.drafts.save(task_id, self.operator_id, text, private=private)
            except SwitchboardError:  # the task is gone: nothing to keep
                log.info("draft of task %s not kept", task_id)
            except Exception:  # noqa: BLE001 - a draft must never take the console down
                log.exception("draft of task %s not saved", task_id)
            return True

    def _set_ids(self, ids: frozenset[int]) -> None:
        if ids != self.ids:
            self.ids = ids
            self.on_ids(ids)
