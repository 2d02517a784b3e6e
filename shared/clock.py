"""Time: UTC in storage and APIs; Asia/Shanghai for the dates people and policies use."""

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def shanghai_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """Midnight in Shanghai of ``day``, as an aware instant (a day's bounds in a search)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb):
    how loan terms and fee periods are counted."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


_last_handed_out = datetime.min.replace(tzinfo=UTC)


def strictly_later() -> datetime:
    """Now, but after every time this process handed out before: rows stamped with it sort
    in the order they were made (an outbox delivered, held events released in time order),
    where two stamped in the same microsecond would fall back to their random ids."""
    global _last_handed_out
    _last_handed_out = max(utcnow(), _last_handed_out + timedelta(microseconds=1))
    return _last_handed_out
