"""Guarantees in force: issued when a bank files a disbursed loan (备案). Never commits.

Terms are frozen from the application's assessment (coverage, fee rate, subsidy shares,
policy version); the fee schedule is schedule.py's. Filing the same loan again with the
same facts returns the guarantee issued; different facts are a conflict. A release (解保:
settled, paid out, written off) ends the guarantee: the schedule is cut at its day, so no
fee is billed and no subsidy paid after it.
"""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.assessments import recheck
from services.guarantee.assessments import service as assessments
from services.guarantee.facts import service as lists
from services.guarantee.guarantees import issuing
from services.guarantee.guarantees import repository as repo
from services.guarantee.guarantees.exceptions import (
    ExposureCapExceeded,
    FilingRefused,
    GuaranteeConflict,
    GuaranteeNotFound,
    GuaranteeReleaseConflict,
    NotAssessedEligible,
    OutstandingInvalid,
    ReleaseInvalid,
)
from services.guarantee.guarantees.filing import findings
from services.guarantee.guarantees.schemas import (
    GuaranteePublic,
)
from services.guarantee.models import Assessment, AuditEntry, Guarantee
from services.guarantee.policies import service as policies
from services.guarantee.policies.fees import (
    FeePeriod,
    FeeRules,
    fee_schedule,
    released_schedule,
)
from shared import audit
from shared.clock import shanghai_today, utcnow
from shared.contracts.guarantee import (
    GuaranteeFiling,
    GuaranteeOutstanding,
    GuaranteeOverdue,
    GuaranteeRelease,
    ReleaseReason,
)
from shared.money import from_fen, to_fen


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
        released_on=guarantee.released_on,
        release_reason=ReleaseReason(guarantee.release_reason)
        if guarantee.release_reason
        else None,
        enterprise_uscc=guarantee.enterprise_uscc,
        outstanding=from_fen(guarantee.outstanding_fen),
        outstanding_on=guarantee.outstanding_on,
    )


async def _within_firm_cap(
    session: AsyncSession, filing: GuaranteeFiling, assessment: Assessment
) -> None:
    """单户在保余额上限 at 备案: the firm's guarantees in force and this loan within the cap
    of the application's segment — the last word, whatever was assessed or allocated."""
    uscc = assessment.request["enterprise"]["uscc"]
    firm = await assessments.firm_exposure(session, uscc)
    cap = Decimal((assessment.terms or {})["max_amount"])
    if firm.outstanding + filing.principal > cap:
        raise ExposureCapExceeded(
            f"企业 {uscc} 在保余额 {firm.outstanding:,.2f} 元 + 本笔放款 "
            f"{filing.principal:,.2f} 元 = {firm.outstanding + filing.principal:,.2f} 元，"
            f"超过单户在保余额上限 {cap:,.2f} 元"
        )


# What makes a filing the same loan again (a repeat answered with the guarantee issued); the
# batch and approval facts sent with it are checked once, when it is issued.
_THE_LOAN = ("application_id", "batch_id", "bank_code", "principal", "disbursed_on", "maturity_on")


async def issue(*, session: AsyncSession, filing: GuaranteeFiling) -> tuple[GuaranteePublic, bool]:
    """The guarantee for this loan, issued now or before; (guarantee, issued now)."""
    facts = filing.model_dump(mode="json")
    existing = await repo.guarantee_for_loan(session=session, loan_id=filing.loan_id)
    if existing is not None:
        if any(existing.filing.get(key) != facts[key] for key in _THE_LOAN):
            raise GuaranteeConflict(f"贷款 {filing.loan_id} 已按不同内容备案")
        return public(existing), False
    assessment = await repo.assessment_for_application(
        session=session, application_id=filing.application_id
    )
    if assessment is None or assessment.decision == "ineligible" or not assessment.terms:
        raise NotAssessedEligible(f"申请 {filing.application_id} 没有可担保的评估")
    policy = await policies.get_version(session=session, policy_id=assessment.policy_version_id)
    today = shanghai_today()
    refused = findings(filing, issuing.filing_terms(policy, assessment), today=today)
    if not refused:
        changed = await recheck.facts_changed_findings(
            session=session,
            assessment=assessment,
            policy=policy,
            principal=filing.principal,
            on=today,
        )
        if changed:
            refused = [f"备案日（{today}）按生效名单重新核验，已不符合条件：{'；'.join(changed)}"]
    if refused:
        raise FilingRefused("；".join(refused))
    await _within_firm_cap(session, filing, assessment)
    guarantee = issuing.frozen(filing, assessment, policy)
    try:
        async with session.begin_nested():
            repo.add(session, guarantee)
            await session.flush()
            await lists.record_benefits(
                session=session,
                guarantee_id=guarantee.id,
                uscc=guarantee.enterprise_uscc,
                trace=assessment.trace,
            )
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


async def of_application(*, session: AsyncSession, application_id: uuid.UUID) -> GuaranteePublic:
    guarantee = await repo.guarantee_for_application(session=session, application_id=application_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"申请 {application_id} 没有担保")
    return public(guarantee)


async def _rules_of(session: AsyncSession, guarantee: Guarantee) -> FeeRules:
    policy = await policies.get_version(session=session, policy_id=guarantee.policy_version_id)
    return issuing.fee_rules_of(policy, guarantee.annual_fee_rate, guarantee.fee_subsidy_share)


def _bill(guarantee: Guarantee, schedule: list[FeePeriod]) -> None:
    guarantee.schedule = [p.model_dump(mode="json") for p in schedule]
    guarantee.fee_fen = sum(to_fen(p.fee) for p in schedule)
    guarantee.fee_subsidy_fen = sum(to_fen(p.subsidy) for p in schedule)


def overdue_spells(guarantee: Guarantee) -> list[tuple[date, date | None]]:
    """(fell overdue, cured by the first repayment from that day on — or None)."""
    paid = sorted(date.fromisoformat(on) for on, _ in guarantee.repayments)
    return [
        (since, next((d for d in paid if d >= since), None))
        for since in sorted({date.fromisoformat(s) for s in guarantee.overdue_since})
    ]


async def _rebill(session: AsyncSession, guarantee: Guarantee) -> None:
    """The schedule again, as what is known now says: each period on what was outstanding
    on its first day (``fee_base: outstanding``), and no subsidy for a period falling due
    while the loan was overdue. A repayment or an overdue reported late lands right."""
    rules = await _rules_of(session, guarantee)
    paid = sorted((date.fromisoformat(on), fen) for on, fen in guarantee.repayments)
    spells = overdue_spells(guarantee)

    def outstanding_on(day: date) -> Decimal:
        return from_fen(guarantee.principal_fen - sum(fen for on, fen in paid if on <= day))

    def overdue_on(day: date) -> bool:
        return any(since <= day and (cure is None or day < cure) for since, cure in spells)

    schedule = fee_schedule(
        principal=from_fen(guarantee.principal_fen),
        disbursed_on=guarantee.disbursed_on,
        maturity_on=guarantee.maturity_on,
        rules=rules,
        outstanding_on=outstanding_on,
        overdue_on=overdue_on,
    )
    _bill(guarantee, schedule)


async def release(
    *, session: AsyncSession, loan_id: uuid.UUID, release: GuaranteeRelease
) -> GuaranteePublic:
    """解保: the guarantee of ``loan_id`` ends on ``release.released_on``; its schedule is cut
    there (the policy's ``release_refund``). The same release again changes nothing; another
    one, once released, is a conflict."""
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id, for_update=True)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    if guarantee.released_on is not None:
        same = (guarantee.released_on, guarantee.release_reason) == (
            release.released_on,
            release.reason.value,
        )
        if not same:
            when, why = guarantee.released_on, guarantee.release_reason
            raise GuaranteeReleaseConflict(f"贷款 {loan_id} 的担保已于 {when} 解保（{why}）")
        return public(guarantee)
    if release.released_on < guarantee.disbursed_on:
        raise ReleaseInvalid(f"解保日 {release.released_on} 早于放款日 {guarantee.disbursed_on}")
    schedule = released_schedule(
        [FeePeriod.model_validate(p) for p in guarantee.schedule],
        released_on=release.released_on,
        disbursed_on=guarantee.disbursed_on,
        principal=from_fen(guarantee.principal_fen),
        rules=await _rules_of(session, guarantee),
    )
    _bill(guarantee, schedule)
    guarantee.released_on = release.released_on
    guarantee.release_reason = release.reason.value
    guarantee.outstanding_fen, guarantee.outstanding_on = 0, release.released_on
    guarantee.released_at = utcnow()
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="guarantee.released",
        entity_type="guarantee",
        entity_id=str(guarantee.id),
        detail={"loan_id": str(loan_id), **release.model_dump(mode="json")},
        entity=guarantee,
    )
    return public(guarantee)


async def report_outstanding(
    *, session: AsyncSession, loan_id: uuid.UUID, report: GuaranteeOutstanding
) -> GuaranteePublic:
    """在保余额 after a repayment: the loan's outstanding principal, as the gateway's ledger
    holds it once the repayment is applied.

    The gateway sends a loan's reports one at a time in the order it applied them (a
    repayment made earlier but reported later included), so the last report is the
    balance; the same report again changes nothing. A released guarantee stays at 0: the
    fund no longer stands behind what the bank still reports."""
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id, for_update=True)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    outstanding = to_fen(report.outstanding)
    if outstanding > guarantee.principal_fen:
        raise OutstandingInvalid(
            f"剩余本金 {report.outstanding} 超过备案本金 {from_fen(guarantee.principal_fen)}"
        )
    if report.on < guarantee.disbursed_on:
        raise OutstandingInvalid(f"还款日 {report.on} 早于放款日 {guarantee.disbursed_on}")
    if guarantee.released_on is not None:
        return public(guarantee)
    before = guarantee.outstanding_fen
    # Each report is a repayment (interest only: a fall of 0), which may cure an overdue;
    # the gateway reports in the order it applied them, so the fall is what it paid.
    repayment = [report.on.isoformat(), max(0, before - outstanding)]
    if outstanding == before and repayment in guarantee.repayments:
        return public(guarantee)  # the same report again
    guarantee.repayments = [*guarantee.repayments, repayment]
    guarantee.outstanding_fen = outstanding
    guarantee.outstanding_on = max(report.on, guarantee.outstanding_on or report.on)
    await _rebill(session, guarantee)
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="guarantee.outstanding",
        entity_type="guarantee",
        entity_id=str(guarantee.id),
        detail={
            "loan_id": str(loan_id),
            "before": str(from_fen(before)),
            **report.model_dump(mode="json"),
        },
        entity=guarantee,
    )
    return public(guarantee)


async def report_overdue(
    *, session: AsyncSession, loan_id: uuid.UUID, report: GuaranteeOverdue
) -> GuaranteePublic:
    """The loan fell overdue: fee periods due from then until it is cured get no subsidy.
    The same day again changes nothing; a released guarantee is past billing."""
    guarantee = await repo.guarantee_for_loan(session=session, loan_id=loan_id, for_update=True)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有担保")
    if report.since < guarantee.disbursed_on:
        raise OutstandingInvalid(f"逾期日 {report.since} 早于放款日 {guarantee.disbursed_on}")
    since = report.since.isoformat()
    if guarantee.released_on is not None or since in guarantee.overdue_since:
        return public(guarantee)
    guarantee.overdue_since = [*guarantee.overdue_since, since]
    await _rebill(session, guarantee)
    audit.append(
        session,
        AuditEntry,
        actor="service:bank_gateway",
        action="guarantee.overdue",
        entity_type="guarantee",
        entity_id=str(guarantee.id),
        detail={"loan_id": str(loan_id), "since": since},
        entity=guarantee,
    )
    return public(guarantee)


async def for_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> Guarantee | None:
    """What claims (and their reconciliation) need of guarantees: one, several, a batch's."""
    return await repo.guarantee_for_loan(session=session, loan_id=loan_id)


async def for_loans(
    *, session: AsyncSession, loan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Guarantee]:
    return await repo.guarantees_by_loan(session=session, loan_ids=loan_ids)


async def guaranteed_volume(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    """Principal of every guarantee issued in the batch (fen): its ceiling's base."""
    return await repo.guaranteed_volume(session=session, batch_id=batch_id)
