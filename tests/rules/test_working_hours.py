"""Working hours: a weekly schedule in its own time zone, holidays as local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.working_hours import (
    Schedule,
    ScheduleError,
    parse_days,
    weekly_slot_after,
    weekly_slot_before,
    zone,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_moscow_desk_opens_at_six_utc() -> None:
    s = Schedule.build("Europe/Moscow", {"mon-fri": "09:00-18:00"})
    assert not s.is_open(utc(2027, 1, 12, 5, 59))  # Tue 08:59 local
    assert s.is_open(utc(2027, 1, 12, 6, 0))  # Tue 09:00 local
    assert s.is_open(utc(2027, 1, 12, 14, 59))  # 17:59 local
    assert not s.is_open(utc(2027, 1, 12, 15, 0))  # 18:00 local


def test_the_local_date_decides_across_midnight_utc() -> None:
    # New York, Friday evening shift: Saturday 02:00 UTC is still Friday 21:00 local.
    s = Schedule.build("America/New_York", {"fri": "20:00-24:00"}, [date(2027, 1, 15)])
    assert s.is_open(utc(2027, 1, 9, 2, 0))  # Fri 2027-01-08 21:00 EST
    assert not s.is_open(utc(2027, 1, 9, 5, 0))  # Sat 00:00 EST
    # The holiday is Friday 2027-01-15 local, though it is already the 16th in UTC.
    assert not s.is_open(utc(2027, 1, 16, 2, 0))
    assert s.describe(utc(2027, 1, 16, 2, 0)) == "Fri 2027-01-15 21:00 America/New_York is a holiday"


def test_split_days_and_ranges() -> None:
    s = Schedule.build("UTC", {"mon-fri": "09:00-13:00, 14:00-18:00", "sat": "closed"})
    assert s.is_open(utc(2027, 1, 11, 9, 0)) and not s.is_open(utc(2027, 1, 11, 13, 30))
    assert not s.is_open(utc(2027, 1, 16, 10, 0))  # Saturday closed
    assert not s.is_open(utc(2027, 1, 17, 10, 0))  # Sunday missing: closed
    assert parse_days("fri-mon") == [0, 4, 5, 6]
    assert parse_days("daily") == list(range(7))


@pytest.mark.parametrize("week", [{"mon": "18:00-09:00"}, {"funday": "09:00-10:00"},
                                  {"mon": "9-10"}, {"mon": "25:00-26:00"}])
def test_malformed_schedules_are_refused(week: dict[str, str]) -> None:
    with pytest.raises(ScheduleError):
        Schedule.build("UTC", week)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ScheduleError):
        zone("Mars/Olympus")


def test_weekly_slots_in_a_zone() -> None:
    tz = zone("Europe/Moscow")
    weekdays = parse_days("mon-fri")
    # Saturday noon UTC: the last slot was Friday 09:00 MSK, the next is Monday's.
    at = utc(2027, 1, 16, 12, 0)
    assert weekly_slot_before(at, tz, weekdays, 9 * 60) == utc(2027, 1, 15, 6, 0)
    assert weekly_slot_after(at, tz, weekdays, 9 * 60) == utc(2027, 1, 18, 6, 0)
