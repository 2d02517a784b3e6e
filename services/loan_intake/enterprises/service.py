"""Firms as the bureau reads them. Never commits, never HTTP."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.applications import service as applications
from services.loan_intake.applications.search import Search
from services.loan_intake.enterprises import repository as repo
from services.loan_intake.enterprises.exceptions import EnterpriseNotFound
from services.loan_intake.enterprises.schemas import (
    Contact,
    EnterpriseListed,
    EnterprisePage,
    EnterpriseProfile,
    Financials,
)
from services.loan_intake.models import STATUS_LABELS_ZH, ApplicationStatus
from shared.auth import Principal
from shared.contracts.assessment import EnterpriseFlags, EnterpriseSnapshot
from shared.sme import SECTORS, SmeSize


async def search(
    *, session: AsyncSession, text: str | None, page: int, page_size: int
) -> EnterprisePage:
    rows, total = await repo.search(
        session=session, text=text, offset=(page - 1) * page_size, limit=page_size
    )
    ids = [e.id for e in rows if e.id is not None]
    counts = await repo.application_counts(session=session, enterprise_ids=ids)
    latest = await repo.latest_statuses(session=session, enterprise_ids=ids)
    items = []
    for firm in rows:
        count, last_at = counts.get(firm.id or 0, (0, None))
        status = latest.get(firm.id or 0)
        items.append(
            EnterpriseListed(
                uscc=firm.uscc,
                name=firm.name,
                registered_district=firm.registered_district,
                sme_sector_name=SECTORS[firm.sme_sector].name_zh,
                sme_size_label=SmeSize(firm.sme_size).label_zh,
                applications=count,
                latest_status_label=STATUS_LABELS_ZH[ApplicationStatus(status)] if status else None,
                latest_applied_at=last_at,
            )
        )
    return EnterprisePage(items=items, total=total, page=page, page_size=page_size)


async def profile(
    *, session: AsyncSession, principal: Principal, uscc: str, page: int, page_size: int
) -> EnterpriseProfile:
    firm = await repo.by_uscc(session=session, uscc=uscc.upper())
    if firm is None:
        raise EnterpriseNotFound(f"没有统一社会信用代码为 {uscc} 的企业申请记录")
    latest = await repo.latest_application(session=session, uscc=firm.uscc)
    financials = None
    if latest is not None:
        snapshot = EnterpriseSnapshot.model_validate(latest.enterprise_snapshot)
        financials = _financials(snapshot, latest.created_at)
    return EnterpriseProfile(
        uscc=firm.uscc,
        name=firm.name,
        registered_district=firm.registered_district,
        industry_code=firm.industry_code,
        sme_sector_name=SECTORS[firm.sme_sector].name_zh,
        sme_size_label=SmeSize(firm.sme_size).label_zh,
        contacts=[
            Contact(
                name=a.contact_name,
                phone=a.contact_phone,
                verified=a.verified_at is not None,
                registered_at=a.created_at,
            )
            for a in await repo.accounts(session=session, uscc=firm.uscc)
        ],
        financials=financials,
        applications=await applications.list_applications(
            session=session,
            principal=principal,
            page=page,
            page_size=page_size,
            search=Search(uscc=firm.uscc),
        ),
    )


def _financials(snapshot: EnterpriseSnapshot, as_of: datetime) -> Financials:
    ratio = None
    if snapshot.total_liabilities is not None and snapshot.total_assets > 0:
        ratio = (snapshot.total_liabilities / snapshot.total_assets).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
    declared = snapshot.flags.model_dump()
    return Financials(
        as_of=as_of,
        employees=snapshot.employees,
        annual_revenue=snapshot.annual_revenue,
        total_assets=snapshot.total_assets,
        total_liabilities=snapshot.total_liabilities,
        debt_ratio=ratio,
        established_on=snapshot.established_on,
        flags_zh=[
            field.description or name
            for name, field in EnterpriseFlags.model_fields.items()
            if declared.get(name)
        ],
    )
