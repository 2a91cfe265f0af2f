"""Working hours: a weekly schedule in one time zone, with holidays.

A schedule answers "is the desk open at this instant?". The instant is an aware
datetime (UTC in the store); it is converted to the schedule's zone first, so a
Moscow desk at 09:00 local is open at 06:00 UTC, and a holiday is a local date.

Spelled in the rules file as::

    schedules:
      office:
        timezone: Europe/Moscow
        week: {mon-fri: "09:00-18:00", sat: "10:00-14:00"}
        holidays: ["2027-01-01", "2027-01-07"]

A day missing from ``week`` is closed; a day may list several ranges
(``"09:00-13:00, 14:00-18:00"``); ``"00:00-24:00"`` is the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.i18n import _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    """A malformed schedule; ``str()`` is a user-facing message."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ScheduleError(_("Unknown time zone {name!r}.").format(name=name)) from err


def parse_days(spec: str) -> list[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"daily"`` → weekday numbers (Monday is 0)."""
    spec = spec.strip().lower()
    if spec in ("daily", "every day", "*"):
        return list(range(7))
    result: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in DAYS or last not in DAYS:
                raise ScheduleError(_("Unknown day range {spec!r}: use mon, tue, wed, thu, fri, "
                                      "sat, sun.").format(spec=part))
            a, b = DAYS.index(first), DAYS.index(last)
            result.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in DAYS:
            result.append(DAYS.index(part))
        else:
            raise ScheduleError(_("Unknown day {spec!r}: use mon, tue, wed, thu, fri, sat, sun."
                                  ).format(spec=part))
    return sorted(set(result))


def parse_clock(text: str) -> int:
    """``"09:30"`` → minutes after midnight; ``"24:00"`` is allowed as the day's end."""
    try:
        hours, minutes = text.strip().split(":")
        h, m = int(hours), int(minutes)
    except ValueError as err:
        raise ScheduleError(_("{text!r} is not a time of day like 09:30.").format(text=text)) from err
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise ScheduleError(_("{text!r} is not a time of day like 09:30.").format(text=text))
    return h * 60 + m


def parse_ranges(spec: str) -> list[tuple[int, int]]:
    """``"09:00-13:00, 14:00-18:00"`` → [(540, 780), (840, 1080)]; ``"closed"`` → []."""
    spec = spec.strip().lower()
    if spec in ("", "closed", "off"):
        return []
    ranges = []
    for part in spec.split(","):
        if "-" not in part:
            raise ScheduleError(_("{text!r} is not a range of hours like 09:00-18:00.").format(
                text=part.strip()))
        start, end = (parse_clock(p) for p in part.split("-", 1))
        if end <= start:
            raise ScheduleError(_("The range {text!r} ends before it starts.").format(
                text=part.strip()))
        ranges.append((start, end))
    return sorted(ranges)


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]  # per weekday, Monday first
    holidays: frozenset[date] = frozenset()

    @classmethod
    def build(cls, timezone: str, week: dict[str, str], holidays: list[date] | None = None
              ) -> Schedule:
        days: list[list[tuple[int, int]]] = [[] for _day in DAYS]
        for day_spec, ranges in week.items():
            for day in parse_days(day_spec):
                days[day] = parse_ranges(ranges)
        return cls(zone(timezone), tuple(tuple(d) for d in days), frozenset(holidays or ()))

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(self.tz)

    def is_open(self, at: datetime) -> bool:
        local = self.local(at)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def describe(self, at: datetime) -> str:
        """Why the desk is open or closed at ``at``, in the schedule's local time."""
        local = self.local(at)
        stamp = local.strftime("%a %Y-%m-%d %H:%M") + f" {self.tz.key}"
        if local.date() in self.holidays:
            return _("{time} is a holiday").format(time=stamp)
        if self.is_open(at):
            return _("{time} is within working hours").format(time=stamp)
        return _("{time} is outside working hours").format(time=stamp)


def weekly_slot_before(at: datetime, tz: ZoneInfo, days: list[int], minute: int,
                       lookback_days: int = 8) -> datetime | None:
    """The latest instant ≤ ``at`` that is ``minute`` after local midnight on one of ``days``."""
    local = at.astimezone(tz)
    for back in range(lookback_days):
        day = local.date().toordinal() - back
        slot = _slot(date.fromordinal(day), minute, tz)
        if slot is not None and slot.weekday() in days and slot <= local:
            return slot.astimezone(UTC)
    return None


def weekly_slot_after(at: datetime, tz: ZoneInfo, days: list[int], minute: int,
                      lookahead_days: int = 8) -> datetime | None:
    """The earliest instant > ``at`` that is ``minute`` after local midnight on one of ``days``."""
    local = at.astimezone(tz)
    for ahead in range(lookahead_days):
        day = local.date().toordinal() + ahead
        slot = _slot(date.fromordinal(day), minute, tz)
        if slot is not None and slot.weekday() in days and slot > local:
            return slot.astimezone(UTC)
    return None


def _slot(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    if minute >= 24 * 60:
        return None
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
