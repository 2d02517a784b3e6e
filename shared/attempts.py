"""Failed sign-ins counted per account and per address: too many in a window → 429.

Kept in the process: with several replicas each counts its own, so the effective limit is
the per-replica limit times the replicas — still a wall against guessing passwords, and no
shared store to run. A success clears the account's count.
"""

import time
from collections import deque
from collections.abc import Callable, Iterable

from shared.errors import AppError


class TooManyAttempts(AppError):
    status, slug = 429, "too-many-attempts"
    title = "尝试次数过多，请稍后再试 (too many attempts)"


class Attempts:
    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _keys(self, account: str, address: str) -> Iterable[tuple[str, str]]:
        return (("account", f"account:{account.strip().lower()}"), ("address", f"ip:{address}"))

    def check(self, *, account: str, address: str) -> None:
        """Raise :class:`TooManyAttempts` (with Retry-After) if either count is full."""
        now = self._clock()
        wait = 0.0
        for kind, key in self._keys(account, address):
            failures = self._failures.get(key)
            if not failures:
                continue
            while failures and now - failures[0] >= self._window:
                failures.popleft()
            if len(failures) >= self._limits[kind]:
                wait = max(wait, self._window - (now - failures[0]))
        if wait > 0:
            seconds = int(wait) + 1
            minutes = max(seconds // 60, 1)
            raise TooManyAttempts(
                f"登录失败次数过多，请约 {minutes} 分钟后再试",
                headers={"Retry-After": str(seconds)},
            )

    def failed(self, *, account: str, address: str) -> None:
        now = self._clock()
        for _, key in self._keys(account, address):
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 100_000:  # bound the memory a flood could take
            self._failures.clear()

    def succeeded(self, *, account: str) -> None:
        self._failures.pop(f"account:{account.strip().lower()}", None)
