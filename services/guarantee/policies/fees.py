"""Fee arithmetic: by actual days over the policy's basis (360 unless it says 365)."""

from decimal import Decimal

from shared.clock import add_months
from shared.money import round_to_fen

__all__ = ["add_months", "guarantee_fee"]


def guarantee_fee(principal: Decimal, annual_rate: Decimal, days: int, basis: int = 360) -> Decimal:
    """``principal × rate × days / basis``, rounded half-up to the fen."""
    return round_to_fen(principal * annual_rate * days / basis)
