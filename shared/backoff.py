"""Retry schedules for work kept in outbox tables (a row's next attempt, not a sleep)."""

import random


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base·2^attempt)], at least base."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return max(base, random.uniform(0, ceiling))  # noqa: S311 - jitter, not security
