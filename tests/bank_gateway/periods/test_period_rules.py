"""Closing periods, as a hypothesis state machine over the pure rules (periods/rules.py and
calendar.py): events land in any day, before or after their period closed; at every close
each closed period's own lines are as they were frozen, its lines and the adjustments naming
it add up to what the ledger says of it now, and Σ statement lines = Σ ledger events."""

import uuid
from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.bank_gateway.periods import calendar, rules
from services.bank_gateway.periods.calendar import Period
from services.bank_gateway.periods.rules import Amounts, Booked, LoanRef

START, TODAY = date(2025, 1, 1), date(2026, 2, 15)
LOANS = [
    LoanRef(uuid.uuid4(), uuid.uuid4(), bank, f"9131011800000000{i:02d}", f"企业{i}")
    for i, bank in enumerate(["srcb", "srcb", "bosc"])
]


class Periods(RuleBasedStateMachine):
    @initialize(kind=st.sampled_from(["monthly", "quarterly"]))
    def start(self, kind: calendar.Kind) -> None:
        self.kind = kind
        self.events: list[tuple[int, str, date, int]] = []
        self.closed: list[Period] = []
        self.stored: list[Booked] = []
        self.frozen: dict[str, list[Booked]] = {}

    def live(self, period: Period) -> Amounts:
        amounts: Amounts = {}
        for loan, kind, day, fen in self.events:
            if period.holds(day):
                rules.add(amounts, LOANS[loan].loan_id, kind, fen)
        return amounts

    def next_open(self) -> Period:
        after = self.closed[-1].last_day if self.closed else None
        return calendar.open_periods(after, START, TODAY, self.kind)[0]

    @rule(
        loan=st.integers(0, len(LOANS) - 1),
        kind=st.sampled_from(list(rules.KINDS)),
        offset=st.integers(0, (TODAY - START).days - 1),
        fen=st.integers(1, 10_000_000),
    )
    def ledger_event(self, loan: int, kind: str, offset: int, fen: int) -> None:
        """Any day: a late one lands in a period already closed."""
        self.events.append((loan, kind, START + timedelta(days=offset), fen))

    @precondition(lambda self: self.next_open().last_day < TODAY)
    @rule()
    def close(self) -> None:
        period = self.next_open()
        earlier = {q.key: self.live(q) for q in self.closed}
        refs = {loan.loan_id: loan for loan in LOANS}
        lines = rules.closing(self.live(period), earlier, self.stored, refs)
        booked = [Booked(period.key, line) for line in lines]
        self.stored += booked
        self.frozen[period.key] = [b for b in booked if b.line.corrects is None]
        self.closed.append(period)
        # Every closed period now says what the ledger says of it.
        for q in self.closed:
            own = [b.line for b in self.stored if b.period_key == q.key and b.line.corrects is None]
            named = [b.line for b in self.stored if b.line.corrects == q.key]
            assert rules.booked(named, own) == {k: v for k, v in self.live(q).items() if v}
        # Σ statement lines = Σ ledger events, up to the last closed day.
        last = period.last_day
        assert sum(b.line.fen for b in self.stored) == sum(
            fen for _, _, day, fen in self.events if day <= last
        )

    @invariant()
    def closed_periods_never_change(self) -> None:
        for key, frozen in self.frozen.items():
            assert [
                b for b in self.stored if b.period_key == key and b.line.corrects is None
            ] == frozen

    @invariant()
    def periods_follow_one_another(self) -> None:
        for before, after in zip(self.closed, self.closed[1:], strict=False):
            assert after.first_day == before.last_day + timedelta(days=1)


Periods.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestPeriods = Periods.TestCase
