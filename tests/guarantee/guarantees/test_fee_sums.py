"""The subsidy report reads fees and fee subsidies kept per month and bank (migration 0015:
triggers mark a guarantee whose schedule changes, the report settles the marks): whatever
is issued, re-billed, moved or deleted, the report equals the walk over every schedule with
each firm's annual cap applied in due order — in the writing transaction and after it."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.guarantee.guarantees.reports import DuePeriod, capped_per_firm, fee_subsidies
from services.guarantee.models import Guarantee
from shared.clock import utcnow
from shared.money import from_fen
from tests.conftest import Tokens, make_uscc
from tests.guarantee.guarantees.test_exposure_totals import an_assessment, row

FIRMS = [make_uscc() for _ in range(3)]
CAPS = [None, "900.00", "2500.00"]
_guarantees = Guarantee.__table__  # type: ignore[attr-defined]

# (months after 2025-11, fee fen, subsidy fen): periods between 2025-11 and 2027-06.
PERIOD = st.tuples(
    st.integers(0, 19),
    st.integers(0, 30).map(lambda n: n * 10_000),
    st.integers(0, 15).map(lambda n: n * 10_000),  # caps of ¥900 and ¥2,500 a year do bite
)
SCHEDULE = st.lists(PERIOD, min_size=1, max_size=4)


def schedule(periods: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    out = []
    for months, fee, subsidy in periods:
        year, month = divmod(2025 * 12 + 10 + months, 12)
        out.append(
            {
                "period_from": date(year, month + 1, 1).isoformat(),
                "period_to": date(year, month + 1, 28).isoformat(),
                "fee": str(from_fen(fee)),
                "subsidy": str(from_fen(min(fee, subsidy))),
            }
        )
    return out


def walked(guarantees: list[dict[str, Any]], month_from: str, month_to: str) -> dict[Any, Any]:
    """What the report says, by walking every schedule (the report before issue 17)."""
    first = date.fromisoformat(f"{month_from}-01")
    last = date.fromisoformat(f"{month_to}-28")
    periods = [
        DuePeriod(
            due=date.fromisoformat(p["period_from"]),
            issued_at=g["issued_at"],
            guarantee_id=g["id"],
            loan_id=g["loan_id"],
            uscc=g["enterprise_uscc"],
            bank_code=g["bank_code"],
            fee_fen=int(Decimal(p["fee"]) * 100),
            subsidy_fen=int(Decimal(p["subsidy"]) * 100),
            firm_annual_cap_fen=(
                int(Decimal(g["fee_subsidy_firm_annual_cap"]) * 100)
                if g["fee_subsidy_firm_annual_cap"] is not None
                else None
            ),
        )
        for g in guarantees
        for p in g["schedule"]
        if date(first.year, 1, 1) <= date.fromisoformat(p["period_from"]) <= last
    ]
    out: dict[tuple[str, str], list[Any]] = {}
    for p, granted in capped_per_firm(periods):
        if p.due >= first:
            line = out.setdefault((p.due.strftime("%Y-%m"), p.bank_code), [0, 0, 0])
            line[0] += 1
            line[1] += p.fee_fen
            line[2] += granted
    return {k: (n, from_fen(fee), from_fen(sub)) for k, (n, fee, sub) in out.items()}


async def reported(session: Any, banks: set[str], month_from: str, month_to: str) -> dict[Any, Any]:
    report = await fee_subsidies(session=session, month_from=month_from, month_to=month_to)
    return {
        (r.month, r.bank_code): (r.periods, r.fee, r.fee_subsidy)
        for r in report.rows
        if r.bank_code in banks
    }


ISSUE = st.tuples(st.just("issue"), st.integers(0, 2), st.integers(0, 2), SCHEDULE)
STEP = st.one_of(
    ISSUE,
    st.tuples(st.just("rebill"), st.integers(0, 20), st.just(0), SCHEDULE),
    st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 2), st.just([])),
    st.tuples(st.just("delete"), st.integers(0, 20), st.just(0), st.just([])),
)


async def change(
    session: Any,
    ours: dict[uuid.UUID, dict[str, Any]],
    kind: str,
    target: uuid.UUID,
    b: int,
    periods: list[Any],
    banks: list[str],
) -> None:
    if kind == "delete":
        await session.execute(sa.delete(_guarantees).where(_guarantees.c.id == target))
        del ours[target]
        return
    if kind == "rebill":
        values: dict[str, Any] = {"schedule": schedule(periods)}
    else:
        values = {"enterprise_uscc": FIRMS[b], "bank_code": banks[b % 2]}
    await session.execute(sa.update(_guarantees).where(_guarantees.c.id == target).values(**values))
    ours[target] |= values


RANGES = st.sampled_from([("2026-01", "2026-12"), ("2026-03", "2027-02"), ("2025-11", "2025-11")])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=ISSUE, steps=st.lists(STEP, max_size=10), months=RANGES)
async def test_the_kept_sums_report_what_walking_every_schedule_reports(
    guarantee_app: Any,
    guarantee_client: httpx.AsyncClient,
    tokens: Tokens,
    first: Any,
    steps: list[Any],
    months: tuple[str, str],
) -> None:
    assessment, policy = await an_assessment(guarantee_client, tokens)
    banks = [f"fs{uuid.uuid4().hex[:8]}" for _ in range(2)]
    ours: dict[uuid.UUID, dict[str, Any]] = {}
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        for kind, a, b, periods in [first, *steps]:
            if kind == "issue":
                values = row(assessment, policy, a, 0, 1_000_000) | {
                    "enterprise_uscc": FIRMS[a],
                    "bank_code": banks[b % 2],
                    "schedule": schedule(periods),
                    "fee_subsidy_firm_annual_cap": CAPS[b],
                    "issued_at": utcnow(),
                }
                await session.execute(sa.insert(_guarantees).values(**values))
                ours[values["id"]] = values
            elif ours:
                await change(session, ours, kind, list(ours)[a % len(ours)], b, periods, banks)
            # settled after each step: a change the triggers miss shows at once
            expected = walked(list(ours.values()), *months)
            assert await reported(session, set(banks), *months) == expected
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        # committed, as another reader sees it
        assert await reported(session, set(banks), *months) == expected
        await session.execute(sa.delete(_guarantees).where(_guarantees.c.id.in_(list(ours))))
