"""在保余额 per firm, batch, bank and policy version is kept as guarantees change (migration
0014: triggers append moves, the report folds them in): whatever is inserted, repaid, moved
or deleted, the folded totals equal the sum over the guarantees in force, in the writing
transaction and after it, and the report reads them."""

import uuid
from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.guarantee.guarantees.repository import fold_exposure
from services.guarantee.models import ExposureSummary, ExposureTotal, Guarantee
from tests.conftest import Tokens, make_uscc
from tests.guarantee.factories import make_request

FIRMS = [make_uscc() for _ in range(3)]
BATCHES = [uuid.uuid4() for _ in range(2)]
BANKS = ["srcb", "bosc"]
_guarantees = Guarantee.__table__  # type: ignore[attr-defined]
_totals = ExposureTotal.__table__  # type: ignore[attr-defined]
_summaries = ExposureSummary.__table__  # type: ignore[attr-defined]


async def an_assessment(client: httpx.AsyncClient, tokens: Tokens) -> tuple[uuid.UUID, uuid.UUID]:
    body = make_request(enterprise__uscc=FIRMS[0]).model_dump(mode="json")
    answer = await client.post(
        "/v1/assessments", json=body, headers=tokens.header(tokens.service("loan_intake"))
    )
    assert answer.status_code == 201, answer.text
    found = answer.json()
    return uuid.UUID(found["assessment_id"]), uuid.UUID(found["policy_version_id"])


def row(
    assessment: uuid.UUID, policy: uuid.UUID, firm: int, batch: int, fen: int
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "loan_id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "enterprise_uscc": FIRMS[firm],
        "assessment_id": assessment,
        "batch_id": BATCHES[batch],
        "bank_code": BANKS[batch],
        "policy_version_id": policy,
        "policy_hash": "0" * 64,
        "filing": {},
        "principal_fen": fen,
        "guaranteed_fen": fen,
        "coverage_ratio": "0.8000",
        "annual_fee_rate": "0.0050",
        "fee_subsidy_share": "0.5000",
        "interest_subsidy_share": "0.0000",
        "disbursed_on": date(2026, 1, 1),
        "maturity_on": date(2027, 1, 1),
        "fee_fen": 0,
        "fee_subsidy_fen": 0,
        "schedule": [],
        "outstanding_fen": fen,
    }


GROUPS = {
    "enterprise": _guarantees.c.enterprise_uscc,
    "batch": _guarantees.c.batch_id,
    "bank": _guarantees.c.bank_code,
    "policy_version": _guarantees.c.policy_version_id,
}


async def kept_and_summed(session: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    await fold_exposure(session=session)
    kept = {
        (g, k if g not in ("batch", "policy_version") else str(uuid.UUID(k))): (n, fen)
        for g, k, n, fen in (
            await session.execute(
                sa.select(
                    _totals.c.group_kind,
                    _totals.c.key,
                    _totals.c.guarantees,
                    _totals.c.outstanding_fen,
                ).where(_totals.c.guarantees != 0)
            )
        ).all()
    }
    summed = {}
    summaries = {
        g: (keys, n, fen)
        for g, keys, n, fen in (
            await session.execute(
                sa.select(
                    _summaries.c.group_kind,
                    _summaries.c["keys"],
                    _summaries.c.guarantees,
                    _summaries.c.outstanding_fen,
                )
            )
        ).all()
    }
    for group, column in GROUPS.items():
        for key, n, fen in (
            await session.execute(
                sa.select(column, sa.func.count(), sa.func.sum(_guarantees.c.outstanding_fen))
                .where(_guarantees.c.outstanding_fen > 0)
                .group_by(column)
            )
        ).all():
            summed[(group, str(key))] = (n, fen)
        # The group's line of totals, kept with them.
        in_group = [v for (g, _), v in summed.items() if g == group]
        assert summaries.get(group, (0, 0, 0)) == (
            len(in_group),
            sum(n for n, _ in in_group),
            sum(fen for _, fen in in_group),
        )
    return kept, summed


STEP = st.one_of(
    st.tuples(
        st.just("insert"),
        st.integers(0, 2),
        st.integers(0, 1),
        st.integers(0, 5).map(lambda n: n * 100_000),
    ),
    st.tuples(
        st.just("repay"),
        st.integers(0, 20),
        st.integers(0, 1),
        st.integers(0, 5).map(lambda n: n * 50_000),
    ),
    st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("delete"), st.integers(0, 20), st.just(0), st.just(0)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12))
async def test_kept_exposure_always_equals_the_sum_over_guarantees_in_force(
    guarantee_app: Any, guarantee_client: httpx.AsyncClient, tokens: Tokens, steps: list[Any]
) -> None:
    assessment, policy = await an_assessment(guarantee_client, tokens)
    ours: list[uuid.UUID] = []
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        for kind, a, b, c in steps:
            if kind == "insert":
                values = row(assessment, policy, a, b, c)
                await session.execute(sa.insert(_guarantees).values(**values))
                ours.append(values["id"])
                continue
            if not ours:
                continue
            target = _guarantees.c.id == ours[a % len(ours)]
            if kind == "repay":
                await session.execute(
                    sa.update(_guarantees).where(target).values(outstanding_fen=c)
                )
            elif kind == "move":
                await session.execute(
                    sa.update(_guarantees)
                    .where(target)
                    .values(enterprise_uscc=FIRMS[b], batch_id=BATCHES[c], bank_code=BANKS[c])
                )
            else:
                await session.execute(sa.delete(_guarantees).where(target))
                ours.remove(ours[a % len(ours)])
        kept, summed = await kept_and_summed(session)
        assert kept == summed
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        kept, summed = await kept_and_summed(session)  # committed, as another reader sees it
        assert kept == summed
        await session.execute(sa.delete(_guarantees).where(_guarantees.c.id.in_(ours)))


async def test_the_report_reads_the_kept_totals_largest_first(
    guarantee_app: Any, guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    assessment, policy = await an_assessment(guarantee_client, tokens)
    firm_rows = [row(assessment, policy, 1, 0, 300_000), row(assessment, policy, 2, 1, 900_000)]
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(sa.insert(_guarantees), firm_rows)
    answer = await guarantee_client.get(
        "/v1/guarantees/exposure?group=enterprise&limit=200",
        headers=tokens.header(tokens.bureau()),
    )
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    keys = [r["key"] for r in rows]
    assert keys.index(FIRMS[2]) < keys.index(FIRMS[1])
    outstanding = [r["outstanding"] for r in rows]
    assert [float(x) for x in outstanding] == sorted((float(x) for x in outstanding), reverse=True)
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(
            sa.delete(_guarantees).where(_guarantees.c.id.in_([r["id"] for r in firm_rows]))
        )
