"""Time: UTC in storage and APIs; Asia/Shanghai for the dates people and policies use."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def shanghai_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


_last_handed_out = datetime.min.replace(tzinfo=UTC)


def strictly_later() -> datetime:
    """Now, but after every time this process handed out before: rows stamped with it sort
    in the order they were made (an outbox delivered, held events released in time order),
    where two stamped in the same microsecond would fall back to their random ids."""
    global _last_handed_out
    _last_handed_out = max(utcnow(), _last_handed_out + timedelta(microseconds=1))
    return _last_handed_out
