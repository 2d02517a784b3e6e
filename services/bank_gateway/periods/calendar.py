"""Fiscal periods (结算期) as the policy's ``settlement.period`` says: calendar months or
calendar quarters. Pure: no database.

A period is named by its key: "2026-11" (a month), "2026-Q3" (a quarter). Periods follow one
another without gap: the next one starts the day after the last closed one and runs to the
end of its month or quarter — so a switch from monthly to quarterly mid-quarter gives one
shorter period, named by its months ("2026-11~2026-12").
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from shared.clock import add_months

Kind = Literal["monthly", "quarterly"]
KEY_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2]|Q[1-4])(~20\d{2}-(0[1-9]|1[0-2]))?$"


@dataclass(frozen=True)
class Period:
    key: str
    kind: Kind
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        """How people name it: 2026年11月, 2026年第3季度."""
        if "~" in self.key:
            return f"{self.first_day:%Y年%m月}至{self.last_day:%Y年%m月}"
        if "-Q" in self.key:
            return f"{self.first_day.year}年第{self.key[-1]}季度"
        return f"{self.first_day.year}年{self.first_day.month}月"

    @property
    def months(self) -> tuple[str, str]:
        """Its first and last month, "YYYY-MM"."""
        return f"{self.first_day:%Y-%m}", f"{self.last_day:%Y-%m}"

    def holds(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def _end_of(day: date, kind: Kind) -> date:
    months = 1 if kind == "monthly" else 3 - (day.month - 1) % 3
    return add_months(date(day.year, day.month, 1), months) - timedelta(days=1)


def _key(first: date, last: date, kind: Kind) -> str:
    if (
        kind == "monthly"
        and first.day == 1
        and (first.year, first.month) == (last.year, last.month)
    ):
        return f"{first:%Y-%m}"
    if kind == "quarterly" and first.day == 1 and first.month % 3 == 1:
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return f"{first:%Y-%m}~{last:%Y-%m}"


def starting(day: date, kind: Kind) -> Period:
    """The period that starts on ``day`` and runs to the end of its month or quarter."""
    last = _end_of(day, kind)
    return Period(_key(day, last, kind), kind, day, last)


def containing(day: date, kind: Kind) -> Period:
    """The whole calendar month or quarter of ``day``."""
    months_in = 0 if kind == "monthly" else (day.month - 1) % 3
    return starting(add_months(date(day.year, day.month, 1), -months_in), kind)


def parse(key: str) -> Period:
    """The period a key names (its kind as written); ValueError if it names none."""
    if not re.match(KEY_PATTERN, key):
        raise ValueError(key)
    if "~" in key:
        first_month, last_month = key.split("~")
        first = date.fromisoformat(f"{first_month}-01")
        last = add_months(date.fromisoformat(f"{last_month}-01"), 1) - timedelta(days=1)
        if last < first:
            raise ValueError(key)
        return Period(key, "quarterly", first, last)
    year, part = key.split("-")
    if part.startswith("Q"):
        return containing(date(int(year), 3 * int(part[1]) - 2, 1), "quarterly")
    return containing(date(int(year), int(part), 1), "monthly")


def open_periods(after: date | None, since: date, today: date, kind: Kind) -> list[Period]:
    """The periods not yet closed, oldest first, up to the one holding ``today``: from the day
    after the last closed one (``after``) — or, none closed, from the whole period holding
    ``since`` (the first day with money in the programme)."""
    period = starting(after + timedelta(days=1), kind) if after else containing(since, kind)
    found = []
    while period.first_day <= today:
        found.append(period)
        period = starting(period.last_day + timedelta(days=1), kind)
    return found
