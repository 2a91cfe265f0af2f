"""Deterministic fake people and chat text for the generated benchmark database.

Names and texts mix Cyrillic and Latin the way a Russian-speaking support desk sees
them. The vocabulary is Zipf-like so full-text search sees both common and rare
words; two marker words have known frequencies so a search benchmark can ask for
"a word in about 12 % of messages" and "a word in about 0.01 %" without scanning.
"""

from __future__ import annotations

import random

# Searchable markers with known frequencies among client/operator texts.
COMMON_WORD_RU = "заказ"  # in ~12 % of messages (with COMMON_WORD_EN in Latin texts)
COMMON_WORD_EN = "order"
COMMON_SHARE = 0.12
RARE_WORD = "цеппелин"  # ~0.01 % of messages
RARE_SHARE = 0.0001

FIRST_RU = ("Анна", "Борис", "Виктор", "Галина", "Дмитрий", "Елена", "Ёжиков", "Жанна",
            "Зоя", "Игорь", "Ксения", "Леонид", "Мария", "Никита", "Ольга", "Павел",
            "Светлана", "Тимур", "Ульяна", "Фёдор", "Юлия", "Яна", "Артём", "Наталья")
LAST_RU = ("Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов",
           "Новикова", "Морозов", "Петрова", "Волков", "Соловьёва", "Васильев", "Зайцева",
           "Павлов", "Семёнова", "Голубев", "Виноградова", "Богданов", "Воробьёва")
FIRST_EN = ("John", "Mary", "Ahmed", "Li", "Sofia", "Lucas", "Emma", "Noah", "Olivia",
            "Mateo", "Aylin", "Kenji", "Chloé", "Björn", "Zoë", "Ravi", "Fatima", "Jan")
LAST_EN = ("Smith", "García", "Müller", "Rossi", "Kowalski", "Nguyen", "Tanaka", "Dubois",
           "Johansson", "Silva", "Khan", "O'Brien", "van Dijk", "Novák", "Yilmaz")

RU_WORDS = ("здравствуйте", "добрый", "день", "спасибо", "пожалуйста", "доставка", "оплата",
            "карта", "возврат", "товар", "курьер", "адрес", "телефон", "скидка", "магазин",
            "неделю", "вчера", "сегодня", "завтра", "почему", "когда", "где", "можно",
            "нужно", "помогите", "проблема", "ошибка", "приложение", "сайт", "пароль",
            "счёт", "чек", "размер", "цвет", "подарок", "упаковка", "склад", "срок",
            "гарантия", "ремонт", "обмен", "деньги", "бонусы", "акция", "промокод", "клиент",
            "ещё", "уже", "очень", "быстро", "долго", "жду", "пришёл", "сломан", "не", "и",
            "в", "на", "с", "по", "мой", "ваш", "это", "как", "что", "так", "тоже")
EN_WORDS = ("hello", "hi", "thanks", "please", "delivery", "payment", "card", "refund",
            "item", "courier", "address", "phone", "discount", "store", "week", "yesterday",
            "today", "tomorrow", "why", "when", "where", "can", "need", "help", "problem",
            "error", "app", "website", "password", "invoice", "receipt", "size", "colour",
            "gift", "package", "warehouse", "warranty", "repair", "exchange", "money",
            "bonus", "promo", "code", "still", "already", "very", "fast", "slow", "waiting",
            "arrived", "broken", "not", "and", "in", "on", "with", "my", "your", "this",
            "how", "what", "the", "a", "is", "it", "to")
RU_OPENERS = ("Здравствуйте!", "Добрый день.", "Спасибо за ожидание.", "Привет",
              "Подскажите, пожалуйста,", "Уточните, пожалуйста,")
EN_OPENERS = ("Hello!", "Hi there,", "Thanks for waiting.", "Good morning,", "Could you tell me",
              "Please check")
FAILURES = ("Forbidden: bot was blocked by the user", "Bad Request: chat not found",
            "Too Many Requests: retry after 5", "(#131047) Re-engagement message",
            "Недоставлено: клиент не в сети")
EVENTS = (("assigned", "Назначено оператору"), ("status", "Status changed to waiting"),
          ("taken", "Задачу взял оператор"), ("reopened", "The client wrote again: task reopened."))


def _cum(n: int) -> list[float]:
    """Cumulative Zipf weights for ``n`` ranked words (s = 1)."""
    total, out = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank
        out.append(total)
    return out


class Corpus:
    """Names and texts from one seeded random generator (same seed → same database)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self._ru_cum = _cum(len(RU_WORDS))
        self._en_cum = _cum(len(EN_WORDS))

    def person(self, cyrillic: bool) -> tuple[str, str]:
        """(display name, username)."""
        r = self.rnd
        if cyrillic:
            first, last = r.choice(FIRST_RU), r.choice(LAST_RU)
        else:
            first, last = r.choice(FIRST_EN), r.choice(LAST_EN)
        user = f"{'u' if cyrillic else ''}{first[:3].lower()}{r.randrange(10, 99999)}"
        return f"{first} {last}", user if r.random() < 0.6 else ""

    def text(self, cyrillic: bool) -> str:
        """One chat message: an opener sometimes, Zipf words, markers at known rates."""
        r = self.rnd
        words, cum = (RU_WORDS, self._ru_cum) if cyrillic else (EN_WORDS, self._en_cum)
        parts = r.choices(words, cum_weights=cum, k=r.randint(3, 24))
        x = r.random()
        if x < COMMON_SHARE:
            parts.insert(r.randrange(len(parts) + 1), COMMON_WORD_RU if cyrillic else COMMON_WORD_EN)
        elif x < COMMON_SHARE + RARE_SHARE:
            parts.append(RARE_WORD)
        if r.random() < 0.08:
            parts.append(f"#{r.randrange(100000, 999999)}")
        body = " ".join(parts)
        if r.random() < 0.3:
            body = r.choice(RU_OPENERS if cyrillic else EN_OPENERS) + " " + body
        return body[0].upper() + body[1:] + r.choice((".", "?", "!", "", "…"))
