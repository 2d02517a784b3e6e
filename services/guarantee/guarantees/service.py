"""Guarantees in force: issued when a bank files a disbursed loan (备案). Never commits.

Terms are frozen from the application's assessment (coverage, fee rate, subsidy shares,
policy version); the fee runs from disbursal to maturity, billed per year of the loan:
each period's fee is ``principal × rate × days / basis`` rounded half-up to the fen, its
subsidy that fee × the subsidy share, rounded the same way; the totals are the sums, so
the schedule always adds up. Filing the same loan again with the same facts returns the
guarantee issued; different facts are a conflict.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.guarantees import repository as repo
from services.guarantee.guarantees.exceptions import (
    GuaranteeConflict,
    GuaranteeNotFound,
    NotAssessedEligible,
)
from services.guarantee.guarantees.schemas import FeePeriod, GuaranteePublic
from services.guarantee.models import AuditEntry, Guarantee
from services.guarantee.policies import service as policies
from services.guarantee.policies.fees import add_months, guarantee_fee
from shared import audit
from shared.contracts.guarantee import FeeSubsidyReport, FeeSubsidyRow, GuaranteeFiling
from shared.money import from_fen, round_to_fen, to_fen


def fee_schedule(
    filing: GuaranteeFiling, rate: Decimal, subsidy_share: Decimal, basis: int
) -> list[FeePeriod]:
    periods = []
    start, year = filing.disbursed_on, 1
    while start < filing.maturity_on:
        end = min(add_months(filing.disbursed_on, 12 * year), filing.maturity_on)
        days = (end - start).days
        fee = guarantee_fee(filing.principal, rate, days, basis)
        subsidy = round_to_fen(fee * subsidy_share)
        periods.append(
            FeePeriod(
                period_from=start,
                period_to=end,
                days=days,
                fee=fee,
                subsidy=subsidy,
                payable=fee - subsidy,
            )
        )
        start, year = end, year + 1
    return periods


def public(guarantee: Guarantee) -> GuaranteePublic:
    return GuaranteePublic(
        id=guarantee.id,
        loan_id=guarantee.loan_id,
        application_id=guarantee.application_id,
        assessment_id=guarantee.assessment_id,
        batch_id=guarantee.batch_id,
        bank_code=guarantee.bank_code,
        policy_version_id=guarantee.policy_version_id,
        policy_hash=guarantee.policy_hash,
        principal=from_fen(guarantee.principal_fen),
        guaranteed_amount=from_fen(guarantee.guaranteed_fen),
        coverage_ratio=guarantee.coverage_ratio,
        annual_fee_rate=guarantee.annual_fee_rate,
        fee_subsidy_share=guarantee.fee_subsidy_share,
        interest_subsidy_share=guarantee.interest_subsidy_share,
        disbursed_on=guarantee.disbursed_on,
        maturity_on=guarantee.maturity_on,
        fee=from_fen(guarantee.fee_fen),
        fee_subsidy=from_fen(guarantee.fee_subsidy_fen),
        fee_payable=from_fen(guarantee.fee_fen - guarantee.fee_subsidy_fen),
        schedule=[FeePeriod.model_validate(p) for p in guarantee.schedule],
        issued_at=guarantee.issued_at,
    )


async def issue(*, session: AsyncSession, filing: GuaranteeFiling) -> tuple[GuaranteePublic, bool]:
    """The guarantee for this loan, issued now or before; (guarantee, issued now)."""
    facts = filing.model_dump(mode="json")
    existing = await repo.guarantee_for_loan(session=session, loan_id=filing.loan_id)
    if existing is not None:
        if existing.filing != facts:
            raise GuaranteeConflict(f"贷款 {filing.loan_id} 已按不同内容备案")
        return public(existing), False
    assessment = await repo.assessment_for_application(
        session=session, application_id=filing.application_id
    )
    if assessment is None or assessment.decision == "ineligible" or not assessment.terms:
        raise NotAssessedEligible(f"申请 {filing.application_id} 没有可担保的评估")
    terms = assessment.terms
    policy = await policies.get_version(session=session, policy_id=assessment.policy_version_id)
    basis = int(policy.document.get("terms", {}).get("day_count_basis", 360))
    rate = Decimal(terms["annual_fee_rate"])
    share = Decimal(terms["fee_subsidy_share"])
    coverage = Decimal(terms["coverage_ratio"])
    schedule = fee_schedule(filing, rate, share, basis)
    guarantee = Guarantee(
        loan_id=filing.loan_id,
        application_id=filing.application_id,
        assessment_id=assessment.id,
        batch_id=filing.batch_id,
        bank_code=filing.bank_code,
        policy_version_id=policy.id,
        policy_hash=assessment.policy_hash,
        filing=facts,
        principal_fen=to_fen(filing.principal),
        guaranteed_fen=to_fen(round_to_fen(filing.principal * coverage)),
        coverage_ratio=terms["coverage_ratio"],
        annual_fee_rate=terms["annual_fee_rate"],
        fee_subsidy_share=terms["fee_subsidy_share"],
        interest_subsidy_share=terms["interest_subsidy_share"],
        disbursed_on=filing.disbursed_on,
        maturity_on=filing.maturity_on,
        fee_fen=sum(to_fen(p.fee) for p in schedule),
        fee_subsidy_fen=sum(to_fen(p.subsidy) for p in schedule),
        schedule=[p.model_dump(mode="json") for p in schedule],
    )
    try:
        async with session.begin_nested():
            repo.add(session, guarantee)
            await session.flush()
    except IntegrityError:
        return await issue(session=session, filing=filing)  # filed twice at once
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="guarantee.issued",
        entity_type="guarantee",
        entity_id=str(guarantee.id),
        detail={"loan_id": str(filing.loan_id), "principal": str(filing.principal)},
        entity=guarantee,
        created=True,
    )
    return public(guarantee), True


async def get(*, session: AsyncSession, loan_id: uuid.UUID) -> GuaranteePublic:
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    return public(guarantee)


async def fee_subsidies(
    *, session: AsyncSession, month_from: str, month_to: str
) -> FeeSubsidyReport:
    """Fees and their subsidies falling due per month and bank (a period is due on its
    first day), from the schedules frozen when each guarantee was issued."""
    first_day = date.fromisoformat(f"{month_from}-01")
    year, month = (int(x) for x in month_to.split("-"))
    last_day = add_months(date(year, month, 1), 1) - timedelta(days=1)
    totals: dict[tuple[str, str], list[int]] = {}
    for guarantee in await repo.guarantees_with_periods_between(
        session=session, first_day=first_day, last_day=last_day
    ):
        for period in guarantee.schedule:
            due = date.fromisoformat(period["period_from"])
            if not first_day <= due <= last_day:
                continue
            row = totals.setdefault((due.strftime("%Y-%m"), guarantee.bank_code), [0, 0, 0])
            row[0] += 1
            row[1] += to_fen(Decimal(period["fee"]))
            row[2] += to_fen(Decimal(period["subsidy"]))
    return FeeSubsidyReport(
        month_from=month_from,
        month_to=month_to,
        rows=[
            FeeSubsidyRow(
                month=month_key,
                bank_code=bank,
                periods=n,
                fee=from_fen(fee),
                fee_subsidy=from_fen(subsidy),
            )
            for (month_key, bank), (n, fee, subsidy) in sorted(totals.items())
        ],
    )


# --- what claims need of a guarantee --------------------------------------------------------


async def for_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> Guarantee | None:
    return await repo.guarantee_for_loan(session=session, loan_id=loan_id)


async def guaranteed_volume(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Principal of every guarantee issued in the batch, in fen: what its compensation
    ceiling is measured against."""
    return await repo.guaranteed_volume(session=session, batch_id=batch_id)
