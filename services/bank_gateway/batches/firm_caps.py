"""单户在保余额上限 at allocation: a firm's 在保余额 (the fund's figure), its loans this
gateway holds allocated or approved but not yet lent, and the application being allocated
stay within the cap of the application's segment (its frozen terms). Never commits.

The fund checked the cap at assessment and checks it again at 备案 (the race-safe last
word); here the bureau is told before a batch is filled with loans the fund would refuse
(a guarantee filed for the firm elsewhere since its assessment).
"""

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.batches import repository as repo
from services.bank_gateway.batches.exceptions import GuaranteeUnavailableProblem
from services.bank_gateway.batches.schemas import AllocationOutcome
from services.bank_gateway.clients import GuaranteeClient, GuaranteeUnavailable
from shared.contracts.allocation import ApplicationForAllocation
from shared.money import to_fen

IN_FLIGHT = ("allocated", "approved")


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


async def over_the_cap(
    session: AsyncSession, guarantee: GuaranteeClient, applications: list[ApplicationForAllocation]
) -> dict[str, AllocationOutcome]:
    """Applications (by id, as str) that would take their firm over its cap, with why; the
    others in order, each counting the ones before it of the same firm."""
    capped = [a for a in applications if a.terms is not None]
    if not capped:
        return {}
    usccs = sorted({a.enterprise.uscc for a in capped})
    try:
        outstanding = await guarantee.firms_outstanding(usccs)
    except GuaranteeUnavailable as error:
        raise GuaranteeUnavailableProblem(f"无法读取企业在保余额：{error}") from error
    in_flight: defaultdict[str, int] = defaultdict(
        int, await repo.firms_in_flight(session=session, usccs=usccs, states=IN_FLIGHT)
    )
    refused = {}
    for application in capped:
        assert application.terms is not None
        uscc, amount = application.enterprise.uscc, to_fen(application.loan.amount)
        held, pending = outstanding.get(uscc, 0), in_flight[uscc]
        cap = to_fen(application.terms.max_amount)
        if held + pending + amount > cap:
            refused[str(application.id)] = AllocationOutcome(
                application_id=application.id,
                allocated=False,
                code="exposure_cap",
                message=(
                    f"企业在保余额 {_yuan(held)} 元 + 已分配未放款 {_yuan(pending)} 元 + 本笔 "
                    f"{_yuan(amount)} 元 = {_yuan(held + pending + amount)} 元，"
                    f"超过单户在保余额上限 {_yuan(cap)} 元"
                ),
            )
        else:
            in_flight[uscc] += amount
    return refused
