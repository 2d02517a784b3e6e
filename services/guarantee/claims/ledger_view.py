"""The fund's figures per loan for the gateway's three-way reconciliation: the guarantee
(在保余额, release), the claim (decision, payout, payment) and the fund's recoveries, and
whether a notice about it is still on its way. Read-only; never commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.claims import repository as repo
from services.guarantee.guarantees import service as guarantees
from services.guarantee.guarantees.collections import collected_fen
from shared.contracts.reconciliation import FundLoanView, FundLoanViews, LoanIds
from shared.money import from_fen


async def fund_view(*, session: AsyncSession, request: LoanIds) -> FundLoanViews:
    ids = list(dict.fromkeys(request.loan_ids))
    held = await guarantees.for_loans(session=session, loan_ids=ids)
    claims = {c.loan_id: c for c in await repo.claims_for_loans(session=session, loan_ids=ids)}
    waiting = await repo.loans_with_notices_pending(session=session, loan_ids=ids)
    items = []
    for loan_id in ids:
        guarantee, claim = held.get(loan_id), claims.get(loan_id)
        items.append(
            FundLoanView(
                loan_id=loan_id,
                guaranteed=guarantee is not None,
                outstanding=from_fen(guarantee.outstanding_fen if guarantee else 0),
                released_on=guarantee.released_on if guarantee else None,
                release_reason=guarantee.release_reason if guarantee else None,
                claim_status=claim.status if claim else None,
                payout=from_fen(claim.payout_fen if claim else 0),
                paid=from_fen(claim.paid_fen if claim else 0),
                fund_recovered=from_fen(claim.fund_recovered_fen if claim else 0),
                fees_collected=from_fen(collected_fen(guarantee) if guarantee else 0),
                notices_pending=loan_id in waiting,
            )
        )
    return FundLoanViews(items=items)
