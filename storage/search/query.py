"""The search query language: what an operator types, parsed into a plain query.

Forms (docs/search.md is the user's guide):

* ``inv 447`` — every word must match, each as a word *prefix*, in any order;
* ``"exact phrase"`` — the words in this order, whole words;
* ``-word`` / ``-"a phrase"`` — leave out messages that contain it;
* ``channel:telegram`` (a channel's name or kind), ``from:client|operator|note``,
  ``@anna`` (written by Anna or in a task assigned to her), ``status:open|closed|new|
  in_progress|waiting|done|completed|cancelled``, ``before:2026-11-01`` (earlier than
  that day), ``after:2026-11-01`` (that day or later; dates are UTC);
* ``#123`` — task number 123;
* a phone number in any format (``+7 (916) 123-45-67``) — compared by digits.

Matching is case-insensitive and treats ё as е. A word is split into letter/digit runs
the way the index tokenizes text (``inv-4471`` is the phrase ``inv 4471*``). A malformed
query raises :class:`QueryError`, whose ``position`` is the 0-based column where it
went wrong, and whose ``str()`` is a sentence for the operator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from storage.errors import SwitchboardError
from storage.i18n import _
from storage.models import (
    CANCELLED,
    COMPLETED,
    DONE,
    IN_PROGRESS,
    INACTIVE_STATUSES,
    INBOUND,
    NEW,
    NOTE,
    OUTBOUND,
    STATUSES,
    WAITING,
    to_micros,
)

MAX_QUERY_LENGTH = 500
MAX_TERMS = 16
MIN_PHONE_DIGITS = 7

_WORD_PIECE = re.compile(r"[^\W_]+")
_PHONE = re.compile(r"\+?\(?\d[\d \t().-]*\d")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_OPEN_STATUSES = tuple(s for s in STATUSES if s not in INACTIVE_STATUSES)

KINDS_BY_NAME = {
    "client": (INBOUND,), "clients": (INBOUND,), "customer": (INBOUND,),
    "operator": (OUTBOUND,), "operators": (OUTBOUND,), "reply": (OUTBOUND,),
    "note": (NOTE,), "notes": (NOTE,), "private": (NOTE,),
}
STATUSES_BY_NAME = {
    "open": _OPEN_STATUSES, "active": _OPEN_STATUSES, "closed": INACTIVE_STATUSES,
    "new": (NEW,), "in_progress": (IN_PROGRESS,), "in-progress": (IN_PROGRESS,),
    "inprogress": (IN_PROGRESS,), "waiting": (WAITING,), "done": (DONE,),
    "completed": (COMPLETED,), "cancelled": (CANCELLED,), "canceled": (CANCELLED,),
}
FILTER_KEYS = ("channel", "from", "status", "before", "after")


class QueryError(SwitchboardError):
    """A query the parser cannot read; ``position`` is the 0-based column of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def fold(word: str) -> str:
    """The query side of the index's folding: lower case, ё as е (lengths preserved)."""
    return word.lower().replace("ё", "е")


def pieces(text: str) -> tuple[str, ...]:
    """Letter/digit runs of ``text``, folded: how the index splits text into words."""
    return tuple(fold(p) for p in _WORD_PIECE.findall(unicodedata.normalize("NFC", text)))


@dataclass(frozen=True)
class Term:
    """Words that must appear together in this order; ``prefix``: the last one as a prefix."""

    words: tuple[str, ...]
    prefix: bool = True


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    before: int | None = None  # micros, exclusive
    after: int | None = None  # micros, inclusive
    task_number: int | None = None
    phones: tuple[str, ...] = ()  # digits only
    phone_words: tuple[str, ...] = field(default=())  # bare digit runs: phone AND word

    @property
    def has_filters(self) -> bool:
        return bool(self.channels or self.kinds or self.operators or self.statuses
                    or self.before is not None or self.after is not None)

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.excluded or self.has_filters or self.task_number
                    or self.phones)

    def highlight_words(self) -> tuple[tuple[str, bool], ...]:
        """(folded word, is prefix) for every positive word, for snippet highlighting."""
        out: list[tuple[str, bool]] = []
        for term in self.terms:
            for i, word in enumerate(term.words):
                out.append((word, term.prefix and i == len(term.words) - 1))
        return tuple(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.terms: list[Term] = []
        self.excluded: list[Term] = []
        self.channels: list[str] = []
        self.kinds: list[str] = []
        self.operators: list[str] = []
        self.statuses: list[str] = []
        self.before: int | None = None
        self.after: int | None = None
        self.before_pos = self.after_pos = 0
        self.task_number: int | None = None
        self.phones: list[str] = []
        self.phone_words: list[str] = []

    def parse(self) -> Query:
        text = self.text
        if len(text) > MAX_QUERY_LENGTH:
            raise QueryError(_("The query is too long (at most {n} characters).").format(
                n=MAX_QUERY_LENGTH), MAX_QUERY_LENGTH)
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                break
            self.item()
        if len(self.terms) + len(self.excluded) > MAX_TERMS:
            raise QueryError(_("Too many words: use at most {n}.").format(n=MAX_TERMS), 0)
        if self.before is not None and self.after is not None and self.after >= self.before:
            raise QueryError(_("after: must be earlier than before: — nothing can match."),
                             self.after_pos)
        return Query(
            text=text, terms=tuple(self.terms), excluded=tuple(self.excluded),
            channels=tuple(dict.fromkeys(self.channels)), kinds=tuple(dict.fromkeys(self.kinds)),
            operators=tuple(dict.fromkeys(self.operators)),
            statuses=tuple(dict.fromkeys(self.statuses)), before=self.before, after=self.after,
            task_number=self.task_number, phones=tuple(dict.fromkeys(self.phones)),
            phone_words=tuple(dict.fromkeys(self.phone_words)),
        )

    # ---- items ---------------------------------------------------------------------------
    def item(self) -> None:
        text, start = self.text, self.pos
        char = text[start]
        if char == '"':
            self.add(self.terms, self.phrase(), start)
        elif char == "-" and start + 1 < len(text) and not text[start + 1].isspace():
            self.pos += 1
            if text[self.pos] == '"':
                self.add(self.excluded, self.phrase(), start)
            else:
                self.add(self.excluded, Term(pieces(self.bare())), start)
        elif char == "@":
            self.pos += 1
            name = self.value(start, "@")
            self.operators.append(name.casefold())
        elif char == "#" and self.match_number():
            pass
        elif self.match_phone():
            pass
        else:
            word = self.bare()
            key, sep, _rest = word.partition(":")
            if sep and key.lower() in FILTER_KEYS:
                self.pos = start + len(key) + 1
                self.filter(key.lower(), self.value(start, key + ":"), start)
            else:
                self.add(self.terms, Term(pieces(word)), start)

    def add(self, target: list[Term], term: Term, start: int) -> None:
        if term.words:  # punctuation alone matches nothing: ignore it
            target.append(term)

    def bare(self) -> str:
        """A run up to the next space or quote."""
        text, start = self.text, self.pos
        end = start
        while end < len(text) and not text[end].isspace() and text[end] != '"':
            end += 1
        self.pos = end
        return text[start:end]

    def phrase(self) -> Term:
        start = self.pos
        end = self.text.find('"', start + 1)
        if end < 0:
            raise QueryError(_('This phrase has no closing quote: add " at its end.'), start)
        self.pos = end + 1
        return Term(pieces(self.text[start + 1:end]), prefix=False)

    def value(self, start: int, what: str) -> str:
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            value = " ".join(self.phrase_raw())
        else:
            value = self.bare()
        if not value.strip():
            raise QueryError(_("{what} needs a value right after it, without a space.").format(
                what=what), start)
        return value.strip()

    def phrase_raw(self) -> list[str]:
        start = self.pos
        end = self.text.find('"', start + 1)
        if end < 0:
            raise QueryError(_('This name has no closing quote: add " at its end.'), start)
        self.pos = end + 1
        return self.text[start + 1:end].split()

    def match_number(self) -> bool:
        text, start = self.text, self.pos
        end = start + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        if end == start + 1 or (end < len(text) and not text[end].isspace()):
            return False
        if self.task_number is not None:
            raise QueryError(_("Only one task number (#123) may be given."), start)
        self.task_number = int(text[start + 1:end])
        self.pos = end
        return True

    def match_phone(self) -> bool:
        text, start = self.text, self.pos
        if start > 0 and not text[start - 1].isspace():
            return False
        found = _PHONE.match(text, start)
        if found is None:
            return False
        end = found.end()
        if end < len(text) and text[end] == ")":
            end += 1
        if end < len(text) and not text[end].isspace():
            return False
        raw = text[start:end]
        digits = re.sub(r"\D", "", raw)
        if len(digits) < MIN_PHONE_DIGITS:
            return False
        plain = raw.isdigit()
        if not plain and not (raw.startswith("+") or any(c in raw for c in "()-")):
            return False  # "447 2026": two numbers, not a phone
        self.pos = end
        if plain:
            self.phone_words.append(digits)
            self.terms.append(Term((digits,)))
        else:
            self.phones.append(digits)
        return True

    def filter(self, key: str, value: str, start: int) -> None:
        low = value.casefold()
        if key == "channel":
            self.channels.append(low)
        elif key == "from":
            if low not in KINDS_BY_NAME:
                raise QueryError(_("from: takes client, operator or note, not {value!r}.").format(
                    value=value), start)
            self.kinds.extend(KINDS_BY_NAME[low])
        elif key == "status":
            if low not in STATUSES_BY_NAME:
                raise QueryError(_(
                    "status: takes open, closed, new, in_progress, waiting, done, completed "
                    "or cancelled, not {value!r}.").format(value=value), start)
            self.statuses.extend(STATUSES_BY_NAME[low])
        else:
            day = parse_day(value, start + len(key) + 1)
            if key == "before":
                self.before, self.before_pos = to_micros(day), start
            else:
                self.after, self.after_pos = to_micros(day), start


def parse_day(value: str, position: int) -> datetime:
    """``YYYY-MM-DD`` (also ``today``/``yesterday``) as midnight UTC of that day."""
    low = value.casefold()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if low == "today":
        return today
    if low == "yesterday":
        return today - timedelta(days=1)
    found = _DATE.match(value)
    if found is None:
        raise QueryError(_("{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01."
                           ).format(value=value), position)
    try:
        return datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=UTC)
    except ValueError as err:
        raise QueryError(_("{value!r} is not a real date ({reason}).").format(
            value=value, reason=err), position) from err


def parse_query(text: str) -> Query:
    """Parse ``text``; raises :class:`QueryError` (with a position) when it cannot."""
    return _Parser(text).parse()
