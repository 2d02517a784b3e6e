"""Time: UTC in storage and APIs; Asia/Shanghai for the dates people and policies use."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def shanghai_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()
