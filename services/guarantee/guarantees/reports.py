"""What the guarantees add up to: fees and fee subsidies per month and bank, 在保余额 per
firm, batch, bank or policy version. Reads only; never commits."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.guarantees import fee_repository as fee_repo
from services.guarantee.guarantees import repository as repo
from services.guarantee.guarantees.fee_sums import month_number
from services.guarantee.guarantees.schemas import (
    EnterpriseExposure,
    ExposureGroup,
    ExposureReport,
    ExposureRow,
)
from services.guarantee.guarantees.service import public
from services.guarantee.policies.fees import add_months
from shared.contracts.guarantee import (
    FeeLine,
    FeeLines,
    FeeSubsidyReport,
    FeeSubsidyRow,
    FirmExposure,
    FirmsExposure,
)
from shared.money import from_fen


@dataclass(frozen=True)
class DuePeriod:
    """A fee period falling due: its guarantee's firm, bank and order, fee and subsidy."""

    due: date
    issued_at: datetime
    guarantee_id: uuid.UUID
    loan_id: uuid.UUID
    uscc: str
    bank_code: str
    fee_fen: int
    subsidy_fen: int
    firm_annual_cap_fen: int | None


def capped_per_firm(periods: list[DuePeriod]) -> list[tuple[DuePeriod, int]]:
    """Each period with the fee subsidy paid on it: a firm's subsidies of a calendar year
    are paid in due order (then by guarantee) until its cap for the year is reached. The
    periods must start in January of each year they cover."""
    used: dict[tuple[str, int], int] = {}
    paid = []
    for p in sorted(periods, key=lambda p: (p.due, p.issued_at, p.guarantee_id)):
        granted = p.subsidy_fen
        if p.firm_annual_cap_fen is not None:
            key = (p.uscc, p.due.year)
            granted = max(0, min(granted, p.firm_annual_cap_fen - used.get(key, 0)))
            used[key] = used.get(key, 0) + granted
        paid.append((p, granted))
    return paid


def _month_days(month_from: str, month_to: str) -> tuple[date, date]:
    first_day = date.fromisoformat(f"{month_from}-01")
    year, month = (int(x) for x in month_to.split("-"))
    return first_day, add_months(date(year, month, 1), 1) - timedelta(days=1)


async def _subsidised_periods(
    session: AsyncSession, first_day: date, last_day: date, usccs: list[str] | None = None
) -> list[tuple[DuePeriod, int]]:
    """The fee periods falling due between the days (a period is due on its first day) — of
    these firms only, if named — each with the subsidy granted on it once the firm's annual
    cap is applied."""
    january = date(first_day.year, 1, 1)  # the cap counts the year's earlier months
    periods = [
        DuePeriod(
            due=d.due,
            issued_at=d.issued_at,
            guarantee_id=d.guarantee_id,
            loan_id=d.loan_id,
            uscc=d.enterprise_uscc,
            bank_code=d.bank_code,
            fee_fen=d.fee_fen,
            subsidy_fen=d.subsidy_fen,
            firm_annual_cap_fen=d.cap_fen,
        )
        for d in await fee_repo.dues_between(
            session=session, first_day=january, last_day=last_day, usccs=usccs
        )
    ]
    return [(p, granted) for p, granted in capped_per_firm(periods) if p.due >= first_day]


async def fee_subsidies(
    *, session: AsyncSession, month_from: str, month_to: str
) -> FeeSubsidyReport:
    """Fees and their subsidies falling due per month and bank, the firm's annual cap
    applied: the kept sums, less what the cap takes from the few firms above the smallest
    cap (their periods walked in order, :func:`capped_per_firm`)."""
    await fee_repo.settle(session=session)
    first_day, last_day = _month_days(month_from, month_to)
    sums = await fee_repo.month_sums(
        session=session, first_month=month_number(first_day), last_month=month_number(last_day)
    )
    capped = await fee_repo.firms_over_smallest_cap(
        session=session, years=list(range(first_day.year, last_day.year + 1))
    )
    if capped:
        for p, granted in await _subsidised_periods(session, first_day, last_day, capped):
            sums[(month_number(p.due), p.bank_code)][2] -= p.subsidy_fen - granted
    return FeeSubsidyReport(
        month_from=month_from,
        month_to=month_to,
        rows=[
            FeeSubsidyRow(
                month=f"{month // 100:04d}-{month % 100:02d}",
                bank_code=bank,
                periods=n,
                fee=from_fen(fee),
                fee_subsidy=from_fen(subsidy),
            )
            for (month, bank), (n, fee, subsidy) in sorted(sums.items())
        ],
    )


async def fee_lines(*, session: AsyncSession, month_from: str, month_to: str) -> FeeLines:
    """Per loan and month: the fee falling due, the district's subsidy of it (the firm's cap
    applied) and what the fund received from the firm that month (担保费实收, by the day
    the money arrived) — the fee lines of the bureau's statements."""
    await fee_repo.settle(session=session)
    first_day, last_day = _month_days(month_from, month_to)
    lines: dict[tuple[str, uuid.UUID], list[Any]] = {}

    def line(month: str, loan_id: uuid.UUID, bank: str, uscc: str) -> list[Any]:
        return lines.setdefault((month, loan_id), [bank, uscc, 0, 0, 0])

    for p, granted in await _subsidised_periods(session, first_day, last_day):
        row = line(p.due.strftime("%Y-%m"), p.loan_id, p.bank_code, p.uscc)
        row[2] += p.fee_fen
        row[3] += granted
    for guarantee in await repo.guarantees_collected_between(
        session=session, first_day=first_day, last_day=last_day
    ):
        for c in guarantee.fee_collections or []:
            day = date.fromisoformat(c["collected_on"])
            if first_day <= day <= last_day:
                row = line(
                    day.strftime("%Y-%m"),
                    guarantee.loan_id,
                    guarantee.bank_code,
                    guarantee.enterprise_uscc,
                )
                row[4] += int(c["amount_fen"])
    return FeeLines(
        month_from=month_from,
        month_to=month_to,
        rows=[
            FeeLine(
                month=month,
                loan_id=loan_id,
                bank_code=bank,
                uscc=uscc,
                fee=from_fen(fee),
                fee_subsidy=from_fen(subsidy),
                collected=from_fen(collected),
            )
            for (month, loan_id), (bank, uscc, fee, subsidy, collected) in sorted(
                lines.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))
            )
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


async def firms_exposure(*, session: AsyncSession, usccs: list[str]) -> FirmsExposure:
    """在保余额 of each firm asked for (0 for a firm the fund has never guaranteed)."""
    wanted = list(dict.fromkeys(usccs))
    found = await repo.outstanding_of_firms(session=session, usccs=wanted)
    return FirmsExposure(
        items=[FirmExposure(uscc=u, outstanding=from_fen(found.get(u, 0))) for u in wanted]
    )


async def enterprise_exposure(*, session: AsyncSession, uscc: str) -> EnterpriseExposure:
    """A firm's 在保余额 across batches and banks, with every guarantee it has had."""
    found = await repo.guarantees_of_enterprise(session=session, uscc=uscc)
    return EnterpriseExposure(
        uscc=uscc,
        outstanding=from_fen(sum(g.outstanding_fen for g in found)),
        guarantees=[public(g) for g in found],
    )
