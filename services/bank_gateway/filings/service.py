"""见贷即保: a bank files a loan it approved and lent within its batch, for an enterprise
that may never have used the portal. Never commits.

loan_intake records the enterprise and the application (it owns them) and has the fund
assess it against the policy in force today; an eligible one is booked into the batch
against its quota, then approved and disbursed as the bank reports them — through the
ledger's own rules, as two of the bank's events, so every figure is checked as a
callback's would be — and its 备案 goes to the fund like any disbursal's (the fund may still
refuse it: ``filing.refused``). Anything refused here leaves nothing in the ledger; the same
reference again answers with the loan as it stands.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.banks.signatures import CallerBank
from services.bank_gateway.batches import service as batches
from services.bank_gateway.batches.allocation import allocate_filed
from services.bank_gateway.batches.exceptions import BatchNotFound, IntakeUnavailableProblem
from services.bank_gateway.clients import IntakeClient, IntakeRefused, IntakeUnavailable
from services.bank_gateway.filings.exceptions import (
    FilingIneligible,
    FilingNotAccepted,
    FilingPending,
)
from services.bank_gateway.filings.schemas import (
    BankFiling,
    BulkFilingResult,
    FilingAccepted,
    FilingResult,
)
from services.bank_gateway.ledger import service as ledger
from services.bank_gateway.models import BATCH_STATUS_ZH, Batch, BatchLoan, BatchStatus
from shared.auth import Principal
from shared.contracts.allocation import ApplicationForAllocation
from shared.contracts.assessment import Decision
from shared.contracts.filing import BankFiledApplication
from shared.errors import AppError, FieldError, ValidationFailed

DECISION_ZH = {"ineligible": "不符合条件", "referred": "需财政局人工审核"}


async def _open_batch(session: AsyncSession, caller: CallerBank, filing: BankFiling) -> Batch:
    batch = await batches.batch_by_id(session=session, batch_id=filing.batch_id)
    if batch is None or batch.bank_id != caller.id:
        raise BatchNotFound(f"没有编号为 {filing.batch_id} 的本行批次")
    if batch.status != BatchStatus.OPEN:
        status = BATCH_STATUS_ZH[BatchStatus(batch.status)]
        raise FilingNotAccepted(f"批次状态为“{status}”，不能受理备案")
    lent = filing.loan.disbursed_on
    if not batch.valid_from <= lent <= batch.valid_to:
        raise FilingNotAccepted(
            f"放款日 {lent} 不在批次有效期 {batch.valid_from} 至 {batch.valid_to} 内"
        )
    return batch


async def _application(
    intake: IntakeClient, caller: CallerBank, bank_name: str, filing: BankFiling
) -> ApplicationForAllocation:
    loan = filing.loan
    body = {
        "enterprise": filing.enterprise,
        "loan": {
            "amount": str(loan.amount),
            "term_months": loan.term_months,
            "purpose": loan.purpose,
            "preferred_bank": bank_name,  # the SME's page names its bank
        },
    }
    try:
        return await intake.file_application(
            BankFiledApplication(
                bank_code=caller.code,
                reference=filing.reference,
                application=body,
                checks=filing.checks,
            )
        )
    except IntakeUnavailable as error:
        raise IntakeUnavailableProblem(f"无法提交申请：{error}") from error
    except IntakeRefused as refused:
        errors = [FieldError.model_validate(e) for e in refused.problem.get("errors") or []]
        raise ValidationFailed(str(refused), errors=errors or None) from refused


def _findings(application: ApplicationForAllocation) -> str:
    failed = [r.finding_zh or r.message_zh for r in application.reasons or [] if not r.passed]
    verdict = DECISION_ZH.get(application.status, application.status)
    return f"担保评估结论：{verdict}" + (f"。原因：{'；'.join(failed)}" if failed else "")


def _events(filing: BankFiling, loan: BatchLoan) -> list[tuple[str, dict[str, Any]]]:
    """The bank's approval and disbursal, as the callbacks it would have sent."""
    data = filing.loan
    return [
        (
            f"filing:{filing.reference}:approved",
            {
                "type": "loan.approved",
                "data": {
                    "loan_id": str(loan.id),
                    "approved_amount": str(data.amount),
                    "annual_interest_rate": str(data.annual_interest_rate),
                    "approved_on": data.approved_on.isoformat(),
                },
            },
        ),
        (
            f"filing:{filing.reference}:disbursed",
            {
                "type": "loan.disbursed",
                "data": {
                    "loan_id": str(loan.id),
                    "amount": str(data.amount),
                    "disbursed_on": data.disbursed_on.isoformat(),
                    "maturity_on": data.maturity_on.isoformat(),
                },
            },
        ),
    ]


def _accepted(
    filing: BankFiling, application: ApplicationForAllocation, loan: BatchLoan
) -> FilingAccepted:
    return FilingAccepted(
        reference=filing.reference,
        application_id=application.id,
        loan_id=loan.id,
        batch_id=loan.batch_id,
        loan_state=loan.state,
        decision=Decision.ELIGIBLE,
        reasons=application.reasons or [],
        terms=application.terms,
    )


async def file(
    *,
    session: AsyncSession,
    caller: CallerBank,
    principal: Principal,
    intake: IntakeClient,
    filing: BankFiling,
) -> tuple[FilingAccepted, bool]:
    """The filing booked (accepted now, or before with this reference); else a problem."""
    batch = await _open_batch(session, caller, filing)
    bank = await banks.by_id(session=session, bank_id=caller.id)
    application = await _application(intake, caller, bank.name, filing)
    existing = await batches.loan_of_application(session=session, application_id=application.id)
    if existing is not None:
        return _accepted(filing, application, existing), False
    if application.status == "assessing":
        raise FilingPending("担保评估尚未完成", headers={"Retry-After": "5"})
    if application.status != "eligible":
        raise FilingIneligible(
            _findings(application), extra={"application_id": str(application.id)}
        )
    loan = await allocate_filed(session, principal, batch, application)
    if loan is None:
        raise FilingNotAccepted(f"批次剩余额度不足以容纳 {application.loan.amount} 元")
    for outcome in await ledger.ingest_many(
        session=session, bank=caller, items=_events(filing, loan)
    ):
        if outcome.status != "applied":
            problem = outcome.problem or {}
            raise FilingNotAccepted(
                f"放款信息未通过核验：{problem.get('detail') or problem.get('title')}",
                extra={"event_problem": problem},
            )
    await session.refresh(loan)
    return _accepted(filing, application, loan), True


async def file_many(
    *,
    session: AsyncSession,
    caller: CallerBank,
    principal: Principal,
    intake: IntakeClient,
    filings: list[BankFiling],
) -> BulkFilingResult:
    """Each filing on its own, in order: one refused leaves the others as they are."""
    results = []
    for filing in filings:
        try:
            async with session.begin_nested():
                accepted, created = await file(
                    session=session,
                    caller=caller,
                    principal=principal,
                    intake=intake,
                    filing=filing,
                )
        except AppError as error:
            results.append(
                FilingResult(
                    reference=filing.reference, status="refused", problem=error.to_problem()
                )
            )
            continue
        status = "accepted" if created else "repeat"
        results.append(FilingResult(reference=filing.reference, status=status, accepted=accepted))
    refused = sum(r.status == "refused" for r in results)
    return BulkFilingResult(results=results, accepted=len(results) - refused, refused=refused)
