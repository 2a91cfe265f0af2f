"""Times an operator types: ``09:00``, ``tomorrow 09:00``, ``2026-12-02 09:00``, ``+2h``.

Read in the app's time zone (``app.timezone``; None: the machine's local zone) and
returned as aware UTC datetimes for the store. A bare time that has already passed
today means tomorrow. Relative times: ``+90m``, ``+2h``, ``+1d`` (and combined, ``+1h30m``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from storage.i18n import _

_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_RELATIVE = re.compile(r"^\+\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?$")
TOMORROW_WORDS = ("tomorrow", "завтра")
TODAY_WORDS = ("today", "сегодня")


class TimeInputError(ValueError):
    """The text is not a time; ``str()`` says what is accepted."""


def app_zone(app: Any) -> tzinfo:
    """The zone the operator thinks in: the app's, else the machine's local zone."""
    zone = getattr(app, "timezone", None)
    return zone if zone is not None else datetime.now().astimezone().tzinfo or UTC


def when_text(at: datetime, zone: tzinfo) -> str:
    """"2026-12-02 09:00" in ``zone``."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _clock(text: str) -> time:
    match = _CLOCK.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise TimeInputError(_hint())
    return time(int(match[1]), int(match[2]))


def _hint() -> str:
    return _("Write a time such as 09:00, tomorrow 09:00, 2026-12-02 09:00 or +2h.")


def parse_when(text: str, zone: tzinfo, now: datetime | None = None) -> datetime:
    """The moment ``text`` names, in UTC; raises :class:`TimeInputError` (also for the past)."""
    now = (now or datetime.now(UTC)).astimezone(zone)
    words = text.strip().lower().split()
    if not words:
        raise TimeInputError(_hint())
    joined = "".join(words)
    if joined.startswith("+"):
        match = _RELATIVE.match(joined)
        if not match or not any(match.groups()):
            raise TimeInputError(_hint())
        days, hours, minutes = (int(g or 0) for g in match.groups())
        delta = timedelta(days=days, hours=hours, minutes=minutes)
        if not delta:
            raise TimeInputError(_hint())
        return (now + delta).astimezone(UTC)
    day: date | None = None
    if len(words) == 2:
        head, clock = words
        if head in TOMORROW_WORDS:
            day = now.date() + timedelta(days=1)
        elif head in TODAY_WORDS:
            day = now.date()
        else:
            try:
                day = date.fromisoformat(head)
            except ValueError:
                raise TimeInputError(_hint()) from None
    elif len(words) == 1:
        clock = words[0]
    else:
        raise TimeInputError(_hint())
    at_clock = _clock(clock)
    if day is None:
        day = now.date()
        if datetime.combine(day, at_clock, zone) <= now:
            day += timedelta(days=1)  # 09:00 said at 17:00 means tomorrow
    at = datetime.combine(day, at_clock, zone)
    if at <= now:
        raise TimeInputError(_("That time has already passed."))
    return at.astimezone(UTC)
