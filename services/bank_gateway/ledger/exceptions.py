"""Why a bank's event is refused: one problem type per condition (RFC 9457).

An event is answered with the problem document of one of these; it is stored with the
event, so the same ``webhook-id`` again gets the same answer.
"""

from shared.errors import AppError, Conflict, NotFound, ValidationFailed


class EventInvalid(ValidationFailed):
    slug, title = "event-invalid", "事件格式不正确 (event invalid)"


class LoanNotFound(NotFound):
    slug, title = "loan-not-found", "没有该贷款 (no such loan for this bank)"


class EventNotApplicable(Conflict):
    slug, title = "event-not-applicable", "事件不能适用于该贷款的当前状态 (can never apply)"


class EventKeyReused(Conflict):
    """The key (``webhook-id``, or a bulk event's ``id``) was used before for another event:
    that first event stands, this one is not taken."""

    slug = "event-key-reused"
    title = "同一事件编号已用于内容不同的事件 (event key reused with another body)"


class BatchSuspended(Conflict):
    slug, title = "batch-suspended", "批次已暂停，不接受新的批准 (batch suspended)"


class AmountRefused(ValidationFailed):
    """The event's figures do not fit the ledger (one subclass, and slug, per check)."""

    slug, title = "amount-refused", "金额与台账不符 (amount does not fit the ledger)"


class AmountExceedsAllocation(AmountRefused):
    slug, title = "amount-exceeds-allocation", "批准金额超过分配金额 (above the allocation)"


class AmountExceedsApproval(AmountRefused):
    slug, title = "amount-exceeds-approval", "放款金额超过批准金额 (above the approval)"


class MaturityBeforeDisbursement(AmountRefused):
    slug, title = "maturity-before-disbursement", "到期日须晚于放款日 (maturity first)"


class RepaymentExceedsOutstanding(AmountRefused):
    slug = "repayment-exceeds-outstanding"
    title = "还款本金超过未偿本金 (repayment above the outstanding)"


class OverdueExceedsOutstanding(AmountRefused):
    slug = "overdue-exceeds-outstanding"
    title = "逾期本金超过未偿本金 (overdue above the outstanding)"


class OutstandingMismatch(AmountRefused):
    slug, title = "outstanding-mismatch", "报告的未偿本金与台账不符 (outstanding differs)"


class InterestMismatch(AmountRefused):
    slug, title = "interest-mismatch", "报告的利息合计与台账不符 (interest differs)"


class OutstandingNotZero(AmountRefused):
    slug, title = "outstanding-not-zero", "仍有未偿本金，不能结清 (outstanding not zero)"


class ClaimNotDecided(AmountRefused):
    slug, title = "claim-not-decided", "代偿尚未决定 (claim not decided yet)"


# The refusals of ledger/rules.py (``Refusal.code``) and the problem each is answered with.
class DateImplausible(AmountRefused):
    slug, title = "date-implausible", "日期不合理 (a date the loan cannot have)"


class MaturityBeyondTerm(AmountRefused):
    slug, title = "maturity-beyond-term", "到期日超过贷款期限 (maturity beyond the term)"


class InterestImplausible(AmountRefused):
    slug, title = "interest-implausible", "利息超过按合同利率可计的上限 (interest above bound)"


AMOUNT_REFUSALS: dict[str, type[AppError]] = {
    cls.slug: cls
    for cls in (
        AmountExceedsAllocation,
        AmountExceedsApproval,
        MaturityBeforeDisbursement,
        RepaymentExceedsOutstanding,
        OverdueExceedsOutstanding,
        OutstandingMismatch,
        InterestMismatch,
        OutstandingNotZero,
        ClaimNotDecided,
        DateImplausible,
        MaturityBeyondTerm,
        InterestImplausible,
    )
}
# Every problem an event can be answered with (the routes document them all).
EVENT_REFUSALS = (
    EventInvalid,
    LoanNotFound,
    EventNotApplicable,
    EventKeyReused,
    BatchSuspended,
    *AMOUNT_REFUSALS.values(),
)
