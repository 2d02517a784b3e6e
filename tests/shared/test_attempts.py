"""Failed sign-ins are counted per account and per address; too many → 429 for a while."""

import pytest

from shared.attempts import Attempts, TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_lock_the_account_for_the_window_and_a_success_clears_it() -> None:
    clock = Clock()
    attempts = Attempts(per_account=5, per_address=20, window_seconds=900, clock=clock)
    for _ in range(5):
        attempts.check(account="Alice", address="10.0.0.1")
        attempts.failed(account="Alice", address="10.0.0.1")
    with pytest.raises(TooManyAttempts) as refused:
        attempts.check(account="alice", address="10.0.0.2")  # same account, elsewhere
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "901"
    attempts.check(account="bob", address="10.0.0.1")  # another account still may try
    clock.now += 901
    attempts.check(account="alice", address="10.0.0.1")
    attempts.failed(account="alice", address="10.0.0.1")
    attempts.succeeded(account="alice")
    attempts.check(account="alice", address="10.0.0.1")


def test_one_address_guessing_many_accounts_is_stopped_too() -> None:
    attempts = Attempts(per_account=5, per_address=20, window_seconds=900, clock=Clock())
    for i in range(20):
        attempts.failed(account=f"user{i}", address="10.9.9.9")
    with pytest.raises(TooManyAttempts):
        attempts.check(account="someone-new", address="10.9.9.9")
    attempts.check(account="someone-new", address="10.9.9.8")
