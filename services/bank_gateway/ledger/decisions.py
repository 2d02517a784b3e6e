"""The ledger moved by others than the bank: the fund's answers (a claim decided, a
recovery split, a 备案 refused), which the outbox worker hands here (main.py's ``answers``
and ``refusals``), and a batch closing, which declines the loans its bank never approved.
Never commits."""

import json
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.ledger import effects, risk
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.rules import (
    LoanState,
    claim_refused,
    decided,
    unguaranteed,
)
from services.bank_gateway.ledger.service import (
    audit_loans,
    figures_of,
    release_held,
    write_back,
)
from services.bank_gateway.models import Batch, BatchLoan, MoneyEntry, ReceivedEvent
from services.bank_gateway.notifications import service as outbox
from services.bank_gateway.notifications.notices import ClaimRefused, FilingRefused
from shared.clock import shanghai_date, utcnow
from shared.contracts.claims import ClaimDecision, ClaimNotice, ClaimStatus, RecoveryShare
from shared.contracts.guarantee import ReleaseReason
from shared.money import from_fen, to_fen, yuan

log = structlog.get_logger("bank_gateway.ledger")


async def record_recovery_share(session: AsyncSession, answer: str) -> None:
    """The guarantee service's answer to a reported recovery (the body of a RecoveryShare)."""
    await apply_recovery_share(session=session, share=RecoveryShare.model_validate_json(answer))


def _claim_decided_text(decision: ClaimDecision, payout: int) -> str:
    if decision.status is ClaimStatus.DENIED:
        return f"担保基金审核不予代偿：{decision.decision_reason or ''}"
    reduced = decision.status is ClaimStatus.REDUCED
    if payout > 0:
        reason = f"担保基金审核{'核减后' if reduced else ''}同意代偿 {yuan(decision.payout)}"
        if reduced:
            reason += f"（理由：{decision.decision_reason}）"
        if decision.refused:
            reason += f"，其余 {yuan(decision.refused)} 暂未代偿"
        return reason
    return "担保基金本次未予代偿"


async def apply_claim_notice(*, session: AsyncSession, notice: ClaimNotice) -> None:
    """The fund decided or paid a claim (its notice): record it on the loan, tell the bank
    and the SME. A paid notice arriving before its decided one applies the decision first.
    A repeat changes nothing."""
    await apply_claim_decision(session=session, decision=notice.decision)
    if notice.kind == "paid":
        await _record_payment(session, notice.decision)


async def _record_payment(session: AsyncSession, decision: ClaimDecision) -> None:
    loans = await repo.lock_loans(session=session, loan_ids={decision.loan_id})
    loan = loans.get(decision.loan_id)
    paid = to_fen(decision.paid)
    if loan is None or paid <= loan.compensation_paid_fen:
        return  # a repeat, or older than a payment already recorded
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    now_paid = paid - loan.compensation_paid_fen
    repo.add(
        session,
        MoneyEntry(
            loan_id=loan.id,
            kind="compensation_paid",
            on_day=decision.paid_on or shanghai_date(utcnow()),
            amount_fen=now_paid,
            reference=decision.payment_reference or "",
        ),
    )
    loan.compensation_paid_fen = paid
    loan.compensation_paid_on = decision.paid_on
    loan.compensation_reference = decision.payment_reference
    text = (
        f"担保基金已向银行支付代偿款 {yuan(from_fen(now_paid))}"
        f"（支付日 {decision.paid_on}，凭证号 {decision.payment_reference}）"
    )
    out = [
        outbox.to_bank(bank.id, "claim.paid", decision),
        effects.to_intake(
            loan,
            bank.code,
            "claim.paid",
            text,
            {"paid": str(from_fen(now_paid)), "on": str(decision.paid_on)},
        ),
    ]
    audit_loans(session, "service:guarantee", [loan], {})
    await outbox.send(session=session, rows=out)
    log.info("claim.paid", loan_id=str(loan.id), paid=str(decision.paid))


async def apply_claim_decision(*, session: AsyncSession, decision: ClaimDecision) -> None:
    """The fund decided a loan's claim: record it on the loan, tell the bank
    (``claim.decided``) and the SME, apply what waited for it. A repeat changes nothing."""
    loans = await repo.lock_loans(session=session, loan_ids={decision.loan_id})
    loan = loans.get(decision.loan_id)
    if loan is None or loan.claim_status != "pending":
        return
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    payout = to_fen(decision.payout)
    write_back(loan, decided(figures_of(loan), outcome=decision.outcome.value, payout_fen=payout))
    loan.compensation_fen = payout
    loan.claim_decided_at = decision.decided_at
    out = [
        outbox.to_bank(bank.id, "claim.decided", decision),
        effects.to_intake(
            loan,
            bank.code,
            "claim.decided",
            _claim_decided_text(decision, payout),
            {
                "outcome": decision.outcome.value,
                "payout": str(decision.payout),
                "refused": str(decision.refused),
                "on": decision.decided_at.isoformat(),
            },
        ),
    ]
    if payout > 0:
        # 解保: the fund paid; it no longer guarantees the loan, and bills no fee after.
        out.append(
            effects.release(loan, shanghai_date(decision.decided_at), ReleaseReason.COMPENSATED)
        )
    waiting = list(await repo.held_events_of(session=session, loan_ids={loan.id}))
    release_held(out, bank.code, batch, loan, waiting)
    audit_loans(session, "service:guarantee", [loan], {})
    await outbox.send(session=session, rows=out)
    await session.flush()
    await risk.suspend_if_over(session, {batch.id})


def _problem(answer: str, default_type: str) -> tuple[str, str]:
    """(type, detail) of the guarantee service's problem document in ``answer``."""
    try:
        problem = json.loads(answer)
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or problem.get("title") or answer)[:1000]
    return str(problem.get("type") or default_type), detail


async def _tell_refusal(
    session: AsyncSession,
    loan: BatchLoan,
    batch: Batch,
    event_type: str,
    notice: ClaimRefused | FilingRefused,
    sme_text: str,
    kind: str,
) -> None:
    """A refusal of the fund recorded on the loan: told to the bank and the SME, the events
    held for it applied or refused, audited."""
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    out = [
        outbox.to_bank(bank.id, event_type, notice),
        effects.to_intake(loan, bank.code, event_type, sme_text, {"problem": kind}),
    ]
    waiting = list(await repo.held_events_of(session=session, loan_ids={loan.id}))
    release_held(out, bank.code, batch, loan, waiting)
    audit_loans(session, "service:guarantee", [loan], {})
    await outbox.send(session=session, rows=out)


async def record_claim_refusal(session: AsyncSession, payload: dict[str, Any], answer: str) -> None:
    """The guarantee service would not take the claim (filed too early or too late, in the
    policy's words): the loan is back in default, the bank told (``claim.refused``) and the
    SME's history says why. Too early, the bank may claim again; else it is denied for good,
    and recoveries held for the decision are the bank's own. A repeat changes nothing."""
    loan_id = uuid.UUID(payload["loan_id"])
    kind, detail = _problem(answer, "/problems/claim-refused")
    early = kind.endswith("/claim-too-early")
    loans = await repo.lock_loans(session=session, loan_ids={loan_id})
    loan = loans.get(loan_id)
    after = claim_refused(figures_of(loan), final=not early) if loan is not None else None
    if loan is None or after is None:
        log.warning("claim.refused_not_applied", loan_id=str(loan_id), problem=kind)
        return
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    write_back(loan, after)
    notice = ClaimRefused(
        loan_id=loan.id,
        application_id=loan.application_id,
        batch_id=batch.id,
        problem_type=kind,
        reason_zh=detail,
        may_resubmit=early,
    )
    text = f"担保基金未受理代偿申请：{detail}"
    await _tell_refusal(session, loan, batch, "claim.refused", notice, text, kind)
    log.info("claim.refused", loan_id=str(loan_id), problem=kind)


async def record_filing_refusal(
    session: AsyncSession, payload: dict[str, Any], answer: str
) -> None:
    """The guarantee service refused a loan's 备案 (its problem document in ``answer``):
    the loan is not guaranteed. The bank is told (``filing.refused``), the SME's history
    says why, the loan's allocation returns to the batch's quota, and events held for the
    loan are refused. A repeat changes nothing."""
    loan_id = uuid.UUID(payload["loan_id"])
    kind, detail = _problem(answer, "/problems/filing-refused")
    loans = await repo.lock_loans(session=session, loan_ids={loan_id})
    loan = loans.get(loan_id)
    after = unguaranteed(figures_of(loan)) if loan is not None else None
    if loan is None or after is None:
        log.warning("filing.refused_not_applied", loan_id=str(loan_id), problem=kind)
        return
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    write_back(loan, after)
    loan.filing_refusal = detail
    await repo.return_quota(session=session, batch_id=batch.id, amount_fen=loan.amount_fen)
    notice = FilingRefused(
        loan_id=loan.id,
        application_id=loan.application_id,
        batch_id=batch.id,
        problem_type=kind,
        reason_zh=detail,
    )
    text = f"担保基金未予备案：{detail}。本笔贷款不在批次贷担保范围内，担保费与补贴不适用。"
    await _tell_refusal(session, loan, batch, "filing.refused", notice, text, kind)
    log.info("filing.refused", loan_id=str(loan_id), problem=kind)


async def apply_recovery_share(*, session: AsyncSession, share: RecoveryShare) -> None:
    """The fund's running share of a loan's recoveries; the bank is told what it owes."""
    loans = await repo.lock_loans(session=session, loan_ids={share.loan_id})
    loan = loans.get(share.loan_id)
    if loan is None:
        return
    fund_total = to_fen(share.fund_recovered_total)
    if fund_total <= loan.fund_recovered_fen:
        return  # a repeat, or an older share than one already recorded
    repo.add(
        session,
        MoneyEntry(
            loan_id=loan.id,
            kind="recovery_to_fund",
            on_day=share.recovered_on,
            amount_fen=fund_total - loan.fund_recovered_fen,
            reference=str(share.recovery_id),
        ),
    )
    loan.fund_recovered_fen = fund_total
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    audit_loans(session, "service:guarantee", [loan], {})
    await outbox.send(
        session=session, rows=[outbox.to_bank(batch.bank_id, "recovery.shared", share)]
    )
    await session.flush()
    await risk.suspend_if_over(session, {batch.id})  # a recovery may bring the rate back


async def decline_unapproved(
    *, session: AsyncSession, bank_code: str, batch: Batch, reason: str
) -> list[BatchLoan]:
    """The batch is closing: loans the bank has not approved are declined, the SME told, and
    events held for them refused (they can never apply now). The loans declined."""
    loans = [
        loan
        for loan in await repo.loans_of_batch(session=session, batch_id=batch.id)
        if loan.state == LoanState.ALLOCATED
    ]
    if not loans:
        return []
    locked = await repo.lock_loans(session=session, loan_ids={loan.id for loan in loans})
    waiting: dict[uuid.UUID, list[ReceivedEvent]] = {i: [] for i in locked}
    for record in await repo.held_events_of(session=session, loan_ids=set(locked)):
        waiting[record.loan_id].append(record)  # type: ignore[index]
    out: list[outbox.Row] = []
    declined = []
    for loan in locked.values():
        if loan.state != LoanState.ALLOCATED:
            continue  # approved meanwhile
        loan.state, loan.last_event_at = LoanState.DECLINED.value, utcnow()
        declined.append(loan)
        out.append(
            effects.to_intake(
                loan,
                bank_code,
                "batch.closed",
                f"批次已关闭，银行未审批：{reason}",
                {"reason": reason},
            )
        )
        release_held(out, bank_code, batch, loan, waiting[loan.id])
    audit_loans(session, "system:batch_closing", declined, {})
    await outbox.send(session=session, rows=out)
    return declined
