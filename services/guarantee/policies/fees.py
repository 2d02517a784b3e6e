"""Fee arithmetic: by actual days over the policy's basis (360 unless it says 365)."""

import calendar
from datetime import date
from decimal import Decimal

from shared.money import round_to_fen


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def guarantee_fee(principal: Decimal, annual_rate: Decimal, days: int, basis: int = 360) -> Decimal:
    """``principal × rate × days / basis``, rounded half-up to the fen."""
    return round_to_fen(principal * annual_rate * days / basis)
