"""What the guarantees add up to: fees and fee subsidies per month and bank, 在保余额 per
firm, batch, bank or policy version. Reads only; never commits."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.guarantees import repository as repo
from services.guarantee.guarantees.schemas import (
    EnterpriseExposure,
    ExposureGroup,
    ExposureReport,
    ExposureRow,
)
from services.guarantee.guarantees.service import public
from services.guarantee.policies.fees import add_months
from shared.contracts.guarantee import FeeSubsidyReport, FeeSubsidyRow
from shared.money import from_fen, to_fen


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


async def exposure(
    *, session: AsyncSession, group: ExposureGroup, offset: int, limit: int
) -> ExposureReport:
    """在保余额 per firm, batch, bank or policy version: the largest first."""
    rows, (keys, count, total) = await repo.exposure(
        session=session, group=group, offset=offset, limit=limit
    )
    return ExposureReport(
        group=group,
        total_guarantees=count,
        total_outstanding=from_fen(total),
        groups=keys,
        rows=[ExposureRow(key=k, guarantees=n, outstanding=from_fen(fen)) for k, n, fen in rows],
    )


async def enterprise_exposure(*, session: AsyncSession, uscc: str) -> EnterpriseExposure:
    """A firm's 在保余额 across batches and banks, with every guarantee it has had."""
    found = await repo.guarantees_of_enterprise(session=session, uscc=uscc)
    return EnterpriseExposure(
        uscc=uscc,
        outstanding=from_fen(sum(g.outstanding_fen for g in found)),
        guarantees=[public(g) for g in found],
    )
