"""Sample data for ``switchboard demo``, tests and benchmarks.

Everything is written through the store's public operations (ingest, reply, note,
the outbox marks, merges, statuses) — never by inserting rows — so the demo shows
exactly what the real flows produce and doubles as an end-to-end exercise of them.

:func:`seed_demo` makes a small, varied desk: operators, contacts across channels
(Cyrillic names too, one contact known in two channels and merged), a task in every
status, one thread with every message kind and delivery state, a completed task the
client wrote to again, merged tasks, and quick replies in English and Russian.
:func:`seed_bulk` makes many plain conversations quickly (benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.inputs import AttachmentIn, Inbound
from storage.models import (
    CANCELLED,
    COMPLETED,
    DELIVERED,
    DONE,
    READ,
    SUPERVISOR,
    utcnow,
)
from storage.rows import ChannelRow
from storage.store import Store

DEMO_MARK = "demo.seeded"  # a state key: this database was made by the demo

OPERATORS = (("Anna Lee", "operator"), ("Борис Смирнов", "operator"), ("Maria Garcia", SUPERVISOR))
CHANNELS = (("web", "webchat"), ("telegram", "telegram"), ("whatsapp", "whatsapp"))

QUICK_REPLIES = (
    ("Greeting", "Hello {{contact.name}}! I am {{operator.name}}, how can I help?", "en",
     ("hello", "greeting")),
    ("Order status", "Your request is task #{{task.number}}; we will write as soon as the order "
     "ships.", "en", ("order", "delivery")),
    ("Refund", "The refund takes 3–5 working days to reach your card.", "en", ("refund", "money")),
    ("Where did you come from", "You wrote to us from:\n{{task.additional_data}}", "en", ("page",)),
    ("Приветствие", "Здравствуйте, {{contact.name}}! Меня зовут {{operator.name}}, чем помочь?",
     "ru", ("привет",)),
    ("Счёт на оплату", "Счёт по задаче №{{task.number}} отправлен на вашу почту.", "ru",
     ("счет", "оплата")),
    ("Возврат денег", "Деньги вернутся на карту в течение 3–5 рабочих дней.", "ru", ("возврат",)),
)


@dataclass
class DemoSummary:
    """What :func:`seed_demo` made, by role, so tests can find the interesting parts."""

    operators: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)


class _Seeder:
    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self.summary = DemoSummary()
        self._n = 0

    def channel(self, name: str, kind: str) -> ChannelRow:
        existing = [c for c in self.store.list_channels() if c.name == name]
        row = existing[0] if existing else self.store.ensure_channel(kind, name, {})
        self.summary.channels[name] = row.id
        return row

    def say(self, channel: str, chat: str, text: str, ago: timedelta, **extra: object) -> int:
        """An inbound client message ``ago`` before now; returns its task id."""
        self._n += 1
        result = self.store.ingest(Inbound(
            channel_id=self.summary.channels[channel], chat_id=chat, sender_id=chat, text=text,
            external_id=f"demo-{self._n}", sent_at=self.now - ago, **extra))  # type: ignore[arg-type]
        return result.task.id


def seed_demo(store: Store, operator_name: str | None = None,
              now: datetime | None = None) -> DemoSummary:
    """Fill an empty store with the demo desk; ``operator_name`` (the console's) gets tasks too."""
    s = _Seeder(store, now or utcnow())
    ops = s.summary.operators
    for name, role in OPERATORS:
        ops[name] = store.ensure_operator(name, role).id
    me = store.operator_by_name(operator_name) if operator_name else None
    mine = me.id if me else ops["Anna Lee"]
    for name, kind in CHANNELS:
        s.channel(name, kind)
    h = timedelta(hours=1)
    m = timedelta(minutes=1)
    d = timedelta(days=1)

    # Every message kind and delivery state in one thread (telegram, Cyrillic contact).
    t = s.say("telegram", "1001", "Здравствуйте! Где мой заказ №4512?", 3 * h,
              display_name="Иван Петров", username="ivan_p", system_data={"language": "ru"})
    s.summary.contacts["ivan"] = store.get_task(t).contact_id or 0
    s.summary.tasks["every_kind"] = t
    store.assign([t], mine, by=mine)
    store.note(t, mine, "Checked the warehouse: order 4512 left yesterday.")
    texts = ("Добрый день, Иван! Сейчас проверю.", "Заказ отправлен вчера.",
             "Трек-номер: RU123456789.", "Доставка 2–3 дня.", "Что-нибудь ещё?",
             "Спасибо, что написали!")
    replies = [store.reply(t, mine, text).id for text in texts]
    # Outbox walk: sent, delivered, read, failed (does not block the rest), sending, queued.
    channel_id = s.summary.channels["telegram"]
    final = {1: DELIVERED, 2: READ}
    items = store.claim_outbox(limit=10, channel_ids=(channel_id,))
    while items and replies.index(items[0].message_id) < 4:
        position = replies.index(items[0].message_id)
        if position == 3:
            store.mark_failed(items[0].message_id, "Bad Request: can't parse entities")
        else:
            external = f"tg-{items[0].message_id}"
            store.mark_sent(items[0].message_id, external)
            if position in final:
                store.mark_delivery(channel_id, external, final[position])
        items = store.claim_outbox(limit=10, channel_ids=(channel_id,))
    s.say("telegram", "1001", "Вот фото коробки", 30 * m,
          attachments=(AttachmentIn("коробка.jpg", "image/jpeg", 182_000, "demo://box.jpg"),))

    # Web chat visitors with page and UTM data (additional description data).
    t = s.say("web", "visitor-olga", "Hi! Do you ship to Kazakhstan?", 2 * h,
              display_name="Olga Smirnova", email="olga@example.com",
              system_data={"page": "https://shop.example/delivery", "utm_source": "newsletter"})
    s.summary.tasks["new"] = t
    t = s.say("web", "visitor-alena", "Алёна Ёлкина: можно оплатить счёт картой?", 5 * h,
              display_name="Алёна Ёлкина", system_data={"page": "https://shop.example/pay"})
    store.assign([t], ops["Борис Смирнов"], by=ops["Maria Garcia"])
    s.summary.tasks["in_progress"] = t
    s.summary.contacts["alena"] = store.get_task(t).contact_id or 0

    # Waiting for the client: the operator's reply moved it there.
    t = s.say("whatsapp", "+447700900123", "Hello, I need a refund for order 7781", 20 * h,
              display_name="John Smith", phone="+447700900123")
    store.assign([t], ops["Anna Lee"], by=ops["Anna Lee"])
    store.reply(t, ops["Anna Lee"], "Hello John, the refund is on its way.")
    s.summary.tasks["waiting"] = t

    # Done, cancelled.
    t = s.say("web", "visitor-mehmet", "Thanks, all sorted!", 2 * d, display_name="Mehmet Yilmaz")
    store.assign([t], mine, by=mine)
    store.set_status([t], DONE, by=mine)
    s.summary.tasks["done"] = t
    t = s.say("telegram", "1002", "test test", 3 * d, display_name="Spam Bot 3000")
    store.set_status([t], CANCELLED, by=ops["Maria Garcia"])
    s.summary.tasks["cancelled"] = t

    # Completed, then the client wrote again: a follow-up task linking the previous one.
    t = s.say("telegram", "1003", "Не приходит код подтверждения", 4 * d,
              display_name="Ольга Кузнецова", username="olga_k")
    store.assign([t], ops["Борис Смирнов"], by=ops["Борис Смирнов"])
    store.reply(t, ops["Борис Смирнов"], "Отправили код повторно, проверьте, пожалуйста.")
    store.set_status([t], COMPLETED, by=ops["Борис Смирнов"])
    s.summary.tasks["completed"] = t
    s.summary.tasks["follow_up"] = s.say("telegram", "1003", "Код снова не пришёл :(", 20 * m)

    # One person in two channels, merged into one contact (both tasks keep working).
    t1 = s.say("web", "visitor-peter", "Hi, I wrote you on Telegram too", 6 * h,
               display_name="Peter Novak", phone="+420601111222")
    t2 = s.say("telegram", "1004", "Peter here, any news?", 5 * h, display_name="Peter N.")
    survivor, loser = store.get_task(t1).contact_id or 0, store.get_task(t2).contact_id or 0
    store.merge_contacts(survivor, loser, ops["Maria Garcia"])
    s.summary.contacts["peter"] = survivor
    s.summary.tasks["peter_web"], s.summary.tasks["peter_telegram"] = t1, t2

    # Two tasks merged: the web chat question moves into the WhatsApp task, in time order.
    t = s.say("whatsapp", "+79161234567", "Здравствуйте, вопрос по доставке", 7 * h,
              display_name="Сергей Волков", phone="+79161234567")
    s.say("whatsapp", "+79161234567", "И ещё про оплату", 6 * h)
    source = s.say("web", "visitor-sergey", "Это Сергей, писал в WhatsApp", 6 * h + 30 * m,
                   display_name="Сергей")
    store.merge_tasks(t, [source], ops["Maria Garcia"], different_clients_ok=True)
    s.summary.tasks["merged_target"], s.summary.tasks["merged_source"] = t, source

    for title, text, language, tags in QUICK_REPLIES:
        store.add_quick_reply(title, text, language, tags)
    store.set_state(DEMO_MARK, (now or utcnow()).isoformat())
    return s.summary


def seed_bulk(store: Store, contacts: int, messages_per_contact: int,
              channel_name: str = "web", batch: int = 500) -> int:
    """Many conversations for benchmarks: ``contacts`` tasks of N inbound messages each.

    Uses ``ingest_many`` (one transaction a batch), the connectors' group-commit path.
    Returns the number of messages stored."""
    channel = [c for c in store.list_channels() if c.name == channel_name]
    channel_id = channel[0].id if channel else store.ensure_channel("webchat", channel_name).id
    start = utcnow() - timedelta(seconds=contacts * messages_per_contact)
    pending: list[Inbound] = []
    stored = 0
    for n in range(contacts * messages_per_contact):
        who = n % contacts
        pending.append(Inbound(
            channel_id=channel_id, chat_id=f"bulk-{who}", sender_id=f"bulk-{who}",
            text=f"Message {n} from client {who}: где мой заказ?", external_id=f"bulk-{n}",
            sent_at=start + timedelta(seconds=n), display_name=f"Client {who} Клиент"))
        if len(pending) >= batch:
            stored += len(store.ingest_many(pending))
            pending = []
    if pending:
        stored += len(store.ingest_many(pending))
    return stored
