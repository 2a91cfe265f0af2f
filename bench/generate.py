"""Generate a realistic Switchboard database for the benchmarks.

    python -m bench.generate --db PATH|postgresql://... --contacts 10000 --tasks 100000 \
        --messages 1000000 [--big-thread 50000] [--seed 1] [--quick] [--quiet]

The schema comes from ``Store.open`` (so search triggers, indexes and migrations are
the real ones); rows are bulk-inserted through the store's connection (see
``bench/bulk.py``). The data: four channels (Telegram, web chat, WhatsApp, VK), about
60 % Cyrillic and 40 % Latin clients, ~10 tasks per conversation of which only the last
may be active, threads of inbound / outbound / notes / system events with delivery
states sent, delivered, read and failed (never queued: a bench database must not make
a connector send), and ONE task with a ``--big-thread``-message thread. Message ids
grow with time as in a real database (tasks are processed in start-time order and the
big thread is merged in by time window).

What a benchmark needs to find is stored in ``key_value``: ``bench.big_thread_task``,
``bench.words`` (JSON: the common and rare search words) and ``bench.generated``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.bulk import Bar, bulk_mode, insert_rows
from bench.corpus import COMMON_WORD_EN, COMMON_WORD_RU, EVENTS, FAILURES, RARE_WORD, Corpus
from connectors.registry import policies
from storage.models import (
    CANCELLED,
    COMPLETED,
    DONE,
    EVENT,
    IN_PROGRESS,
    INBOUND,
    NEW,
    NOTE,
    OUTBOUND,
    WAITING,
    to_micros,
    utcnow,
)
from storage.store import Store

CHANNELS = (("telegram", "tg", 0.45), ("webchat", "web", 0.30), ("whatsapp", "wa", 0.15),
            ("vk", "vk", 0.10))
OPERATORS = (("Анна", "supervisor"), ("Борис", "operator"), ("Виктория", "operator"),
             ("Григорий", "operator"), ("Дарья", "operator"), ("Егор", "operator"),
             ("Mike", "operator"), ("Sara", "supervisor"), ("Tom", "operator"),
             ("Лейла", "operator"), ("Ömer", "operator"), ("Юрий", "operator"))
KINDS = (INBOUND, OUTBOUND, NOTE, EVENT)
KIND_CUM = (0.50, 0.88, 0.94, 1.0)
DELIVERY = (("read", 0.55), ("delivered", 0.80), ("sent", 0.95), ("failed", 1.0))
SPAN = 730 * 86_400_000_000  # two years in microseconds
MIN = 60_000_000
CHUNK_TASKS = 2_000

MSG_COLS = ("id", "task_id", "kind", "author_operator_id", "author_contact_id", "text",
            "created_at", "channel_id", "external_id", "delivery_state", "failure_reason",
            "attempts", "next_attempt_at", "edited", "moved_from_id", "meta")
TASK_COLS = ("id", "number", "title", "status", "assignee_id", "contact_id", "channel_id",
             "chat_id", "bound_key", "description", "additional_data", "previous_task_id",
             "merged_into_id", "created_at", "last_activity_at", "last_client_message_at",
             "first_reply_at", "unread_count", "last_preview", "last_kind")
CONTACT_COLS = ("id", "name", "phones", "emails", "merged_into_id", "created_at")
IDENTITY_COLS = ("id", "channel_id", "external_id", "contact_id", "display_name", "username", "phone")
AUDIT_COLS = ("id", "task_id", "operator_id", "action", "detail", "at")


def js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass
class Conv:
    """One conversation: a contact's identity in one channel (what a task is bound to)."""

    contact_id: int
    channel: tuple[int, str, str]  # id, kind, name
    chat_id: str
    name: str
    username: str
    cyrillic: bool
    last_task: int | None = None


@dataclass
class Plan:
    conv: Conv
    t0: int
    count: int
    active: bool
    task_id: int = 0


class Generator:
    def __init__(self, store: Store, seed: int, quiet: bool) -> None:
        self.store, self.quiet = store, quiet
        self.rnd = random.Random(seed)
        self.corpus = Corpus(self.rnd)
        self.now = to_micros(utcnow())
        self.ids = {t: self._max_id(t) for t in ("contact", "identity", "task", "message", "audit")}
        self.counts = {KIND: 0 for KIND in KINDS}

    def _max_id(self, table: str) -> int:
        return int(self.store.db.execute_sql(f'SELECT COALESCE(max(id), 0) FROM "{table}"').fetchone()[0])

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # ---- people -------------------------------------------------------------------
    def people(self, contacts: int, channels: list[tuple[int, str, str]]) -> list[Conv]:
        rnd, convs = self.rnd, []
        cum = [sum(w for *_x, w in CHANNELS[: i + 1]) for i in range(len(CHANNELS))]
        bar = Bar("contacts", contacts, self.quiet)
        for start in range(0, contacts, 5_000):
            crow, irow = [], []
            for _ in range(min(5_000, contacts - start)):
                cid = self.next_id("contact")
                cyr = rnd.random() < 0.6
                name, user = self.corpus.person(cyr)
                phone = f"+7916{cid:07d}" if rnd.random() < 0.4 else ""
                email = f"client{cid}@example.com" if rnd.random() < 0.3 else ""
                crow.append((cid, name, js([phone] if phone else []), js([email] if email else []),
                             None, self.now - SPAN - rnd.randrange(SPAN // 4)))
                picks = {min(bisect.bisect_left(cum, rnd.random() * cum[-1]), len(channels) - 1)}
                if rnd.random() < 0.1 and len(channels) > 1:
                    picks.add(rnd.randrange(len(channels)))
                for ch in sorted(picks):
                    chan = channels[ch]
                    chat = {"telegram": f"{10_000_000 + cid}", "webchat": f"v{cid:08x}",
                            "whatsapp": f"7916{cid:07d}", "vk": f"{200_000 + cid}"}[chan[1]]
                    irow.append((self.next_id("identity"), chan[0], chat, cid, name, user,
                                 phone if chan[1] == "whatsapp" else ""))
                    convs.append(Conv(cid, chan, chat, name, user, cyr))
            with self.store.db.atomic():
                insert_rows(self.store, "contact", CONTACT_COLS, crow)
                insert_rows(self.store, "identity", IDENTITY_COLS, irow)
            bar.add(len(crow))
        bar.finish()
        return convs

    # ---- tasks and threads -----------------------------------------------------------
    def plan(self, convs: list[Conv], tasks: int, budget: int) -> list[Plan]:
        """Which conversation each task belongs to, when it starts, how many messages."""
        rnd = self.rnd
        weights, total = [], 0.0
        for _ in convs:
            total += rnd.expovariate(1.0)
            weights.append(total)
        owners = rnd.choices(range(len(convs)), cum_weights=weights, k=tasks)
        counts = [2] * tasks
        extra = budget - 2 * tasks
        if extra > 0:
            tw, t = [], 0.0
            for _ in range(tasks):
                t += rnd.expovariate(1.0)
                tw.append(t)
            for i in rnd.choices(range(tasks), cum_weights=tw, k=extra):
                counts[i] += 1
        plans = [Plan(convs[o], self.now - rnd.randrange(SPAN), counts[i], False)
                 for i, o in enumerate(owners)]
        plans.sort(key=lambda p: p.t0)
        last: dict[int, Plan] = {}
        for p in plans:
            last[id(p.conv)] = p
        for p in last.values():
            p.active = rnd.random() < 0.35
        return plans

    def thread(self, plan: Plan, times: list[int]) -> tuple[list[list[Any]], dict[str, Any]]:
        """The messages of one task (ids not yet assigned) and the task's derived fields."""
        rnd, conv = self.rnd, plan.conv
        ops = self.operators
        assignee = rnd.choice(ops) if rnd.random() < 0.9 else None
        chan_id, kind_name, chan_name = conv.channel
        msgs: list[list[Any]] = []
        for i, at in enumerate(times):
            if i == 0:
                kind, text = EVENT, f"Task created from a message in {chan_name}."
                meta = js({"event": "created"})
            elif i == 1:
                kind, text, meta = INBOUND, self.corpus.text(conv.cyrillic), "{}"
            else:
                kind = KINDS[bisect.bisect_left(KIND_CUM, rnd.random())]
                meta = "{}"
                if kind == EVENT:
                    code, text = rnd.choice(EVENTS)
                    meta = js({"event": code})
                else:
                    text = self.corpus.text(conv.cyrillic if kind != NOTE or rnd.random() < 0.5
                                            else not conv.cyrillic)
            row: list[Any] = [0, 0, kind, None, None, text, at, None, None, None, "", 0, None,
                              False, None, meta]
            if kind == INBOUND:
                row[4], row[7] = conv.contact_id, chan_id
            elif kind == OUTBOUND:
                row[3], row[7] = assignee or rnd.choice(ops), chan_id
                x = rnd.random()
                row[9] = next(state for state, p in DELIVERY if x <= p)
                row[11] = 1
                if row[9] == "failed":
                    row[10], row[11] = rnd.choice(FAILURES), 3
            elif kind == NOTE:
                row[3] = assignee or rnd.choice(ops)
            msgs.append(row)
            self.counts[kind] += 1
        inb = [r[6] for r in msgs if r[2] == INBOUND]
        outb = [r[6] for r in msgs if r[2] == OUTBOUND]
        last = msgs[-1]
        unread = 0
        for r in reversed(msgs):
            if r[2] == OUTBOUND:
                break
            unread += r[2] == INBOUND
        if plan.active:
            status = (DONE if rnd.random() < 0.1 else WAITING if last[2] == OUTBOUND
                      else IN_PROGRESS if outb else NEW)
            if status == NEW and rnd.random() < 0.5:
                assignee = None
        else:
            status, unread = (CANCELLED if rnd.random() < 0.05 else COMPLETED), 0
        fields = {"assignee": assignee, "status": status, "last_at": last[6],
                  "preview": " ".join(last[5].split())[:120], "last_kind": last[2],
                  "last_client": max(inb) if inb else None,
                  "first_reply": min(outb) if outb else None, "unread": unread}
        return msgs, fields

    def times(self, t0: int, count: int) -> list[int]:
        out, t = [], t0
        for i in range(count):
            if i > 1:
                t += int(self.rnd.expovariate(1 / (20 * MIN))) + 1_000_000
            out.append(t)
        if out[-1] > self.now - MIN:
            shift = out[-1] - (self.now - MIN)
            out = [x - shift for x in out]
        return out

    def task_row(self, plan: Plan, f: dict[str, Any], created: int) -> tuple[Any, ...]:
        conv = plan.conv
        chan_id, kind_name, chan_name = conv.channel
        data: dict[str, Any] = {"channel": chan_name, "channel_kind": kind_name}
        if conv.username:
            data["username"] = conv.username
        if kind_name == "webchat":
            data["page"] = f"https://shop.example/catalog/{plan.task_id % 500}"
        description = ""
        if conv.last_task:
            data["previous_task"] = conv.last_task
            description = f"Previous task: #{conv.last_task}"
        bound = f"{chan_id}:{conv.chat_id}" if plan.active else None
        return (plan.task_id, plan.task_id, f"{conv.name} in {chan_name}", f["status"],
                f["assignee"], conv.contact_id, chan_id, conv.chat_id, bound, description,
                js(data), conv.last_task, None, created, f["last_at"], f["last_client"],
                f["first_reply"], f["unread"], f["preview"], f["last_kind"])

    def finish_messages(self, pending: list[tuple[int, list[Any]]]) -> list[tuple[Any, ...]]:
        """Assign ids in time order and the external ids that depend on them."""
        pending.sort(key=lambda item: item[1][6])
        out = []
        for task_id, row in pending:
            mid = self.next_id("message")
            row[0], row[1] = mid, task_id
            if row[2] == INBOUND or (row[2] == OUTBOUND and row[9] != "failed"):
                row[8] = f"{'in' if row[2] == INBOUND else 'out'}{mid}"
            out.append(tuple(row))
        return out

    def run(self, contacts: int, tasks: int, messages: int, big: int) -> dict[str, Any]:
        store = self.store
        channels = []
        for kind, name, _w in CHANNELS:
            ch = store.ensure_channel(kind, name, {"history_messages": 10})
            channels.append((ch.id, kind, name))
        self.operators = [store.ensure_operator(n, r).id for n, r in OPERATORS]
        with bulk_mode(store, quiet=self.quiet):
            convs = self.people(contacts - 1 if big else contacts, channels)
            big_plan = None
            if big:
                big_conv = self.people(1, channels[:1])[0]
                big_conv.name = "Большой Клиент (big thread)"
                with store.db.atomic():
                    store.db.execute_sql(f'UPDATE "contact" SET name = {store.db.param} WHERE id = '
                                         f'{store.db.param}', (big_conv.name, big_conv.contact_id))
                big_plan = Plan(big_conv, self.now - SPAN // 2, big, True, self.next_id("task"))
            plans = self.plan(convs, tasks - (1 if big else 0), messages - big)
            big_times = sorted(self.now - MIN - self.rnd.randrange(SPAN // 2) for _ in range(big))
            if big_plan is not None:
                big_times[0] = big_times[1] = big_plan.t0
                big_msgs, big_f = self.thread(big_plan, big_times)
                with store.db.atomic():
                    insert_rows(store, "task", TASK_COLS, [self.task_row(big_plan, big_f, big_plan.t0)])
            bar = Bar("tasks and messages", messages, self.quiet)
            cursor = 0
            for start in range(0, len(plans), CHUNK_TASKS):
                chunk = plans[start:start + CHUNK_TASKS]
                window_end = plans[start + CHUNK_TASKS].t0 if start + CHUNK_TASKS < len(plans) else None
                trows, arows, pending = [], [], []
                for p in chunk:
                    p.task_id = self.next_id("task")
                    msgs, f = self.thread(p, self.times(p.t0, p.count))
                    trows.append(self.task_row(p, f, p.t0))
                    p.conv.last_task = p.task_id
                    arows.append((self.next_id("audit"), p.task_id, None, "created",
                                  js({"channel": p.conv.channel[2]}), p.t0))
                    pending.extend((p.task_id, m) for m in msgs)
                if big_plan is not None:
                    stop = len(big_msgs) if window_end is None else bisect.bisect_left(
                        big_times, window_end)
                    pending.extend((big_plan.task_id, m) for m in big_msgs[cursor:stop])
                    cursor = max(cursor, stop)
                rows = self.finish_messages(pending)
                with store.db.atomic():
                    insert_rows(store, "task", TASK_COLS, trows)
                    insert_rows(store, "audit", AUDIT_COLS, arows)
                    insert_rows(store, "message", MSG_COLS, rows)
                bar.add(len(rows))
            if big_plan is not None and cursor < len(big_msgs):
                rows = self.finish_messages([(big_plan.task_id, m) for m in big_msgs[cursor:]])
                with store.db.atomic():
                    insert_rows(store, "message", MSG_COLS, rows)
                bar.add(len(rows))
            bar.finish()
        info = {"contacts": contacts, "tasks": tasks, "messages": messages, "big_thread": big,
                "by_kind": self.counts, "big_thread_task": big_plan.task_id if big_plan else None}
        store.set_state("bench.generated", js(info))
        store.set_state("bench.words", js({"common": [COMMON_WORD_RU, COMMON_WORD_EN],
                                           "rare": RARE_WORD}))
        if big_plan is not None:
            store.set_state("bench.big_thread_task", str(big_plan.task_id))
        return info


def generate(url: str, contacts: int, tasks: int, messages: int, big_thread: int = 0,
             seed: int = 1, quiet: bool = False) -> dict[str, Any]:
    """Fill the (new) database at ``url``; returns what was generated."""
    if tasks < 1 or contacts < 1 or messages < 2 * tasks + big_thread or big_thread == 1:
        raise ValueError("need at least 1 contact and 1 task, --messages >= 2 * --tasks + "
                         "--big-thread, and --big-thread 0 or >= 2")
    store = Store.open(url, progress=lambda label, done, total: None, policies=policies())
    try:
        if store.db.execute_sql('SELECT count(*) FROM "message"').fetchone()[0]:
            raise ValueError(f"{url} already holds messages: generate into a new database")
        started = time.monotonic()
        info = Generator(store, seed, quiet).run(contacts, tasks, messages, big_thread)
        info["seconds"] = round(time.monotonic() - started, 1)
        return info
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="SQLite path or postgresql://… URL (a new database)")
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--big-thread", type=int, default=None,
                    help="messages in the one big thread (default: 50,000, or 5 %% of "
                         "--messages when that is less)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes (50 contacts, 200 tasks, 2,000 messages, 500 in the big thread)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    if a.quick:
        a.contacts, a.tasks, a.messages, a.big_thread = 50, 200, 2_000, 500
    if a.big_thread is None:
        a.big_thread = min(50_000, a.messages // 20)
    try:
        info = generate(a.db, a.contacts, a.tasks, a.messages, a.big_thread, a.seed, a.quiet)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(info, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
