"""Claims the batch's compensation ceiling cut, topped up as the batch grows. Never commits.

A claim cut by the ceiling keeps its remainder open at the guarantee service. Each loan
the fund files (备案) raises the batch's guaranteed volume and with it the ceiling, so after
a filing of a batch with such claims the gateway asks the fund to pay what the room now
allows (``guarantee.topups`` in the outbox), and records every increase it answers with:
the loan's compensation, the bank told (``claim.decided`` again, with all paid so far and
what is still open), the SME told, the guarantee released if this is its first payout.
"""

import json
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.ledger import effects, risk
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.rules import LoanState, decided
from services.bank_gateway.ledger.service import audit_loans, figures_of, write_back
from services.bank_gateway.models import BatchLoan
from services.bank_gateway.notifications import service as outbox
from shared.clock import shanghai_date
from shared.contracts.claims import ClaimDecision, ClaimTopUpRequest, ClaimTopUps
from shared.contracts.guarantee import ReleaseReason
from shared.money import from_fen, to_fen, yuan

log = structlog.get_logger("bank_gateway.ledger")

CUT = ("partially_paid", "refused")


async def after_filing(session: AsyncSession, answer: str) -> None:
    """The fund issued a guarantee (its answer to a 备案): if the loan's batch has claims
    the ceiling cut, ask the fund to top them up."""
    issued = json.loads(answer)
    batch_id = uuid.UUID(issued["batch_id"])
    if not await repo.has_claims_in(session=session, batch_id=batch_id, outcomes=CUT):
        return
    row = outbox.to_guarantee(
        application_id=uuid.UUID(issued["application_id"]),
        loan_id=uuid.UUID(issued["loan_id"]),
        event_type="guarantee.topups",
        body=ClaimTopUpRequest(batch_id=batch_id),
    )
    await outbox.send(session=session, rows=[row])


async def record_top_ups(session: AsyncSession, answer: str) -> None:
    """The fund's answer: each claim the ceiling cut, as it stands. Any payout above what
    the ledger holds is a top-up; the same answer again changes nothing."""
    top_ups = ClaimTopUps.model_validate_json(answer)
    grown = {d.loan_id: d for d in top_ups.decisions}
    loans = await repo.lock_loans(session=session, loan_ids=set(grown))
    batch = await repo.get_batch(session=session, batch_id=top_ups.batch_id)
    if batch is None:
        return
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    out: list[outbox.Row] = []
    changed = []
    for loan_id, decision in grown.items():
        loan = loans.get(loan_id)
        if loan is None or to_fen(decision.payout) <= loan.compensation_fen:
            continue
        out += _topped_up(loan, decision, bank.id, bank.code)
        changed.append(loan)
    if not changed:
        return
    audit_loans(session, "service:guarantee", changed, {})
    await outbox.send(session=session, rows=out)
    await session.flush()
    await risk.suspend_if_over(session, {batch.id})
    log.info("claims.topped_up", batch_id=str(batch.id), loans=len(changed))


def _topped_up(
    loan: BatchLoan, decision: ClaimDecision, bank_id: uuid.UUID, bank_code: str
) -> list[outbox.Row]:
    before, payout = loan.compensation_fen, to_fen(decision.payout)
    if loan.state == LoanState.DEFAULTED:  # wholly refused before: now compensated
        write_back(
            loan, decided(figures_of(loan), outcome=decision.outcome.value, payout_fen=payout)
        )
    loan.claim_status = decision.outcome.value
    loan.compensation_fen = payout
    more = from_fen(payout - before)
    # What the firm reads: the money, not how the batch's ceiling works.
    text = f"担保基金追加代偿 {yuan(more)}，累计代偿 {yuan(decision.payout)}"
    if decision.refused:
        text += f"，尚有 {yuan(decision.refused)} 待后续代偿"
    rows = [
        outbox.to_bank(bank_id, "claim.decided", decision),
        effects.to_intake(
            loan,
            bank_code,
            "claim.topped_up",
            text,
            {
                "topped_up": str(more),
                "payout": str(decision.payout),
                "refused": str(decision.refused),
            },
        ),
    ]
    if before == 0:
        # 解保 with the first payout, as when a claim is paid on its decision.
        rows.append(
            effects.release(loan, shanghai_date(decision.decided_at), ReleaseReason.COMPENSATED)
        )
    return rows
