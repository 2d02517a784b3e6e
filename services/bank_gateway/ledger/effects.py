"""What a change of a loan tells the others, as outbox rows (notifications/service.py):
the SME's status page (loan_intake), and the fund (the guarantee service) — 备案 when a
loan is disbursed, 在保余额 after each repayment, the claim when the bank submits it,
recoveries after a payout, and 解保 when it is settled or paid out."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from services.bank_gateway.ledger import events
from services.bank_gateway.models import Batch, BatchLoan
from services.bank_gateway.notifications import service as outbox
from shared.contracts.claims import ClaimRequest, RecoveryReport
from shared.contracts.guarantee import (
    GuaranteeFiling,
    GuaranteeOutstanding,
    GuaranteeOverdue,
    GuaranteeRelease,
    ReleaseReason,
)
from shared.money import from_fen, percent, yuan

Row = outbox.Row


def to_intake(
    loan: BatchLoan,
    bank_code: str,
    event_type: str,
    reason: str,
    details: dict[str, Any],
    *,
    news: bool = False,
) -> Row:
    """The loan's new state, for the SME's status page, with why (in Chinese)."""
    return outbox.to_intake(
        news=news,
        application_id=loan.application_id,
        event_type=event_type,
        status=loan.state,
        reason_zh=reason,
        batch_id=loan.batch_id,
        bank_code=bank_code,
        details=details,
    )


def of_event(
    bank_code: str,
    batch: Batch,
    loan: BatchLoan,
    event_id: uuid.UUID,
    event_type: str,
    data: events.EventData,
) -> list[Row]:
    """What the applied event ``event_type`` tells the fund and the SME."""
    rows = []
    if isinstance(data, events.Disbursed):
        # 备案: the guarantee service issues the guarantee for the disbursed loan.
        rows.append(_to_guarantee(loan, "guarantee.filing", _filing(bank_code, batch, loan, data)))
    if isinstance(data, events.ClaimSubmitted):
        claim = ClaimRequest(
            loan_id=loan.id,
            application_id=loan.application_id,
            batch_id=loan.batch_id,
            bank_code=bank_code,
            outstanding_principal=data.outstanding_principal,
            interest_due=data.interest_due,
            annual_interest_rate=Decimal(loan.annual_interest_rate or "0"),
            submitted_on=data.submitted_on,
            overdue_since=loan.overdue_since,
            defaulted_on=loan.defaulted_on,
            compensation_ceiling=Decimal(batch.compensation_ceiling),
            ceiling_base_amount=from_fen(batch.quota_fen)
            if batch.ceiling_base == "batch_quota"
            else None,
        )
        rows.append(_to_guarantee(loan, "guarantee.claim", claim))
    if isinstance(data, events.Repayment):
        # 在保余额: the fund's exposure falls with the loan's outstanding principal.
        report = GuaranteeOutstanding(outstanding=from_fen(loan.outstanding_fen), on=data.paid_on)
        rows.append(_to_guarantee(loan, "guarantee.outstanding", report))
    if isinstance(data, events.Overdue):
        # No fee subsidy for a fee period falling due while the loan is overdue.
        rows.append(_to_guarantee(loan, "guarantee.overdue", GuaranteeOverdue(since=data.since)))
    if isinstance(data, events.Settled):
        # 解保: repaid in full, the fund no longer stands behind it; no fee after this day.
        rows.append(release(loan, data.settled_on, ReleaseReason.SETTLED))
    if isinstance(data, events.Recovered) and loan.compensation_fen > 0:
        # The fund paid: it takes its share of what is recovered.
        report = RecoveryReport(
            recovery_id=event_id, amount=data.amount, recovered_on=data.recovered_on
        )
        rows.append(_to_guarantee(loan, "guarantee.recovery", report))
    reason, details = _update_text(data, loan)
    rows.append(to_intake(loan, bank_code, event_type, reason, details))
    return rows


def _filing(
    bank_code: str, batch: Batch, loan: BatchLoan, data: events.Disbursed
) -> GuaranteeFiling:
    """备案 with what the fund checks it against: the batch's window, the amounts allocated
    and approved, the approval day, the term and the contract rate."""
    rate = loan.annual_interest_rate
    return GuaranteeFiling(
        loan_id=loan.id,
        application_id=loan.application_id,
        batch_id=loan.batch_id,
        bank_code=bank_code,
        principal=data.amount,
        disbursed_on=data.disbursed_on,
        maturity_on=data.maturity_on,
        term_months=loan.term_months,
        annual_interest_rate=Decimal(rate) if rate else None,
        approved_amount=from_fen(loan.approved_fen),
        approved_on=loan.approved_on,
        allocated_amount=from_fen(loan.amount_fen),
        batch_valid_from=batch.valid_from,
        batch_valid_to=batch.valid_to,
    )


def release(loan: BatchLoan, released_on: date, reason: ReleaseReason) -> Row:
    """The guarantee ends (解保): settled, paid out or written off."""
    body = GuaranteeRelease(released_on=released_on, reason=reason)
    return _to_guarantee(loan, "guarantee.release", body)


def _to_guarantee(loan: BatchLoan, event_type: str, body: Any) -> Row:
    return outbox.to_guarantee(
        application_id=loan.application_id, loan_id=loan.id, event_type=event_type, body=body
    )


def _update_text(data: events.EventData, loan: BatchLoan) -> tuple[str, dict[str, Any]]:
    """What the SME reads in its history, and the figures shown with it."""
    outstanding = str(from_fen(loan.outstanding_fen))
    match data:
        case events.Approved():
            return (
                f"银行已批准，金额 {yuan(data.approved_amount)}，"
                f"年利率 {percent(data.annual_interest_rate)}",
                {"approved_amount": str(data.approved_amount), "on": data.approved_on.isoformat()},
            )
        case events.Declined():
            return f"银行未批准：{data.reason}", {"on": data.declined_on.isoformat()}
        case events.Disbursed():
            return (
                f"银行已放款 {yuan(data.amount)}，到期日 {data.maturity_on}",
                {
                    "amount": str(data.amount),
                    "on": data.disbursed_on.isoformat(),
                    "maturity_on": data.maturity_on.isoformat(),
                },
            )
        case events.Repayment():
            return (
                f"已还本金 {yuan(data.principal)}、利息 {yuan(data.interest)}，"
                f"剩余本金 {yuan(outstanding)}",
                {
                    "principal": str(data.principal),
                    "interest": str(data.interest),
                    "outstanding": outstanding,
                    "on": data.paid_on.isoformat(),
                },
            )
        case events.Overdue():
            return (
                f"逾期本金 {yuan(data.overdue_principal)}（自 {data.since} 起）",
                {"overdue_principal": str(data.overdue_principal), "since": data.since.isoformat()},
            )
        case events.Defaulted():
            return f"贷款违约，未偿本金 {yuan(outstanding)}", {"outstanding": outstanding}
        case events.ClaimSubmitted():
            return (
                f"银行已向担保基金申请代偿：未偿本金 {yuan(data.outstanding_principal)}、"
                f"利息 {yuan(data.interest_due)}",
                {
                    "outstanding": str(data.outstanding_principal),
                    "interest_due": str(data.interest_due),
                    "on": data.submitted_on.isoformat(),
                },
            )
        case events.Recovered():
            return (
                f"追回 {yuan(data.amount)}，累计追回 {yuan(from_fen(loan.recovered_fen))}",
                {"amount": str(data.amount), "on": data.recovered_on.isoformat()},
            )
        case events.Settled():
            return "贷款已结清", {"on": data.settled_on.isoformat()}
    raise AssertionError(f"no text for {type(data).__name__}")
