"""在保余额 (guaranteed outstanding) in the console: per firm, batch, bank or policy version,
and one firm's guarantees across batches and banks. The figures are the guarantee
service's; the names (firm, batch, bank) are the gateway's own."""

import uuid
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console import repository as repo
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import render_page, staff_member, to_login
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import problem_text

exposure_pages = APIRouter(prefix="/console/reports", include_in_schema=False)

Group = Literal["enterprise", "batch", "bank", "policy_version"]
GROUPS: dict[str, str] = {
    "enterprise": "按企业",
    "batch": "按批次",
    "bank": "按银行",
    "policy_version": "按政策版本",
}
PER_PAGE = 50
REASONS = {"settled": "已结清", "compensated": "已代偿", "written_off": "已核销"}


@exposure_pages.get("/exposure")
async def exposure_page(
    request: Request,
    session: SessionDep,
    group: Group = "enterprise",
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        report = await calls.get(
            calls.guarantee,
            "/v1/guarantees/exposure",
            group=group,
            offset=(page - 1) * PER_PAGE,
            limit=PER_PAGE,
        )
    except AppError as failure:
        message = problem_text(failure)
        return render_page(request, "message.html", principal, message=message, status_code=502)
    names = await _names(session, calls, group, [r["key"] for r in report["rows"]])
    return render_page(
        request,
        "exposure.html",
        principal,
        report=report,
        names=names,
        group=group,
        groups=GROUPS,
        page=page,
        per_page=PER_PAGE,
    )


@exposure_pages.get("/exposure/{uscc}")
async def enterprise_page(
    request: Request,
    session: SessionDep,
    uscc: str = Path(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        firm = await calls.get(calls.guarantee, f"/v1/guarantees/exposure/{uscc}")
    except AppError as failure:
        message = problem_text(failure)
        return render_page(request, "message.html", principal, message=message, status_code=502)
    batch_ids = [uuid.UUID(g["batch_id"]) for g in firm["guarantees"]]
    return render_page(
        request,
        "exposure_enterprise.html",
        principal,
        firm=firm,
        name=(await repo.enterprise_names(session=session, usccs=[uscc])).get(uscc, ""),
        batches={
            str(k): v
            for k, v in (await repo.batch_names(session=session, batch_ids=batch_ids)).items()
        },
        banks={b.code: b.name for b in await repo.list_banks(session=session)},
        reasons=REASONS,
    )


async def _names(
    session: SessionDep, calls: OnBehalf, group: str, keys: list[str]
) -> dict[str, str]:
    """What people call each key: the firm's name, the batch's, the bank's, the policy's."""
    if group == "enterprise":
        return await repo.enterprise_names(session=session, usccs=keys)
    if group == "batch":
        found = await repo.batch_names(session=session, batch_ids=[uuid.UUID(k) for k in keys])
        return {str(k): v for k, v in found.items()}
    if group == "bank":
        return {b.code: b.name for b in await repo.list_banks(session=session)}
    listed = await calls.get(calls.guarantee, "/v1/policies", limit=200)
    return {p["id"]: f"{p['name']} v{p['version']}" for p in listed["items"]}
