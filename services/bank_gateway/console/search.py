"""Find anything: applications searched by number, USCC, name, status, bank and days; firms
by name or USCC; one firm's page — its applications (intake), guarantees and 在保余额 (the
fund) and the subsidies the bureau paid it (ours)."""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console import repository as repo
from services.bank_gateway.console.calls import CallFailed, OnBehalf
from services.bank_gateway.console.pages import render_page, staff_member, to_login
from shared.db import SessionDep
from shared.errors import AppError
from shared.money import from_fen
from shared.web import problem_text

search_pages = APIRouter(prefix="/console", include_in_schema=False)

PER_PAGE = 20
SORTS = {
    "newest": "最新提交",
    "oldest": "最早提交",
    "amount_desc": "金额从高到低",
    "amount_asc": "金额从低到高",
}
# The statuses a clerk filters by, in the order of an application's life.
STATUSES = {
    "assessing": "评估中",
    "eligible": "符合条件",
    "referred": "待人工复核",
    "returned": "待补充材料",
    "ineligible": "不符合条件",
    "allocated": "已分配批次",
    "bank_reviewing": "银行审批中",
    "approved": "银行已批准",
    "declined": "银行已拒绝",
    "disbursed": "已放款",
    "repaying": "还款中",
    "overdue": "逾期",
    "defaulted": "违约",
    "claimed": "已申请代偿",
    "compensated": "已代偿",
    "settled": "已结清",
    "withdrawn": "已撤回",
}
_FILTERS = ("q", "status", "bank", "submitted_from", "submitted_to", "sort")


@search_pages.get("/applications")
async def applications_page(request: Request, page: int = Query(1, ge=1, le=10_000)) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    # Only the filters this page knows, each bounded by the API it is passed to.
    filters = {k: request.query_params.get(k, "").strip()[:100] for k in _FILTERS}
    filters = {k: v for k, v in filters.items() if v}
    calls = OnBehalf(request)
    listed, error = None, ""
    try:
        listed = await calls.get(
            calls.intake, "/v1/applications", page=page, page_size=PER_PAGE, **filters
        )
    except AppError as failure:
        error = problem_text(failure)
    return render_page(
        request,
        "search_applications.html",
        principal,
        listed=listed,
        error=error,
        filters=filters,
        statuses=STATUSES,
        sorts=SORTS,
        paging=_paging(filters),
    )


def _paging(filters: dict[str, str]) -> str:
    """The query string that keeps the filters when turning pages."""
    return urlencode(filters)


@search_pages.get("/enterprises")
async def enterprises_page(
    request: Request, q: str = Query("", max_length=100), page: int = Query(1, ge=1, le=10_000)
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    listed, error = None, ""
    params: dict[str, Any] = {"page": page, "page_size": PER_PAGE}
    if q.strip():
        params["q"] = q.strip()
    try:
        listed = await calls.get(calls.intake, "/v1/enterprises", **params)
    except AppError as failure:
        error = problem_text(failure)
    return render_page(
        request, "enterprises.html", principal, listed=listed, error=error, q=q.strip()
    )


@search_pages.get("/enterprises/{uscc}")
async def enterprise_page(
    request: Request,
    session: SessionDep,
    uscc: str = Path(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        firm = await calls.get(
            calls.intake, f"/v1/enterprises/{uscc}", page=page, page_size=PER_PAGE
        )
    except AppError as failure:
        return render_page(
            request,
            "message.html",
            principal,
            message=problem_text(failure),
            status_code=404 if _upstream_status(failure) == 404 else 502,
        )
    exposure, exposure_error = None, ""
    try:
        exposure = await calls.get(calls.guarantee, f"/v1/guarantees/exposure/{uscc}")
    except AppError as failure:
        exposure_error = problem_text(failure)
    listed = None  # the lists in force today naming the firm (None: not readable now)
    try:
        facts = await calls.get(calls.guarantee, "/v1/reference-lists/facts", uscc=uscc)
        listed = [f for f in facts["facts"] if f["source"]]
    except AppError:
        listed = None
    payouts = await repo.subsidy_payouts_of(session=session, uscc=uscc)
    return render_page(
        request,
        "enterprise.html",
        principal,
        firm=firm,
        listed=listed,
        exposure=exposure,
        exposure_error=exposure_error,
        payouts=[(p, from_fen(p.amount_fen)) for p in payouts],
        payouts_total=from_fen(sum(p.amount_fen for p in payouts)),
        page=page,
    )


def _upstream_status(failure: AppError) -> int | None:
    return failure.problem.get("status") if isinstance(failure, CallFailed) else None
