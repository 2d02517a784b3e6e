"""What a clerk looks for among applications (the API's query, the repository's filter)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Search:
    """What a clerk looks for. ``text``: an application number (QP-2026-000123), the start
    of a USCC, or part of the firm's name."""

    status: str | None = None
    text: str | None = None
    uscc: str | None = None
    bank: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "newest"
