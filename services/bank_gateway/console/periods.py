"""结算期 in the console: the periods (closed and open), a period's statement per bank and per
firm (拨付清单) with its adjustments, closing the oldest ended one (a bureau approver),
recording the subsidies paid by voucher, and the statement as CSV, Excel or PDF."""

from datetime import date
from typing import Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from services.bank_gateway.clients import GuaranteeUnavailable
from services.bank_gateway.console import statement_files
from services.bank_gateway.console.pages import back, render_page, staff_member, to_login
from services.bank_gateway.deps import GuaranteeDep
from services.bank_gateway.periods import service, statements
from services.bank_gateway.periods.calendar import KEY_PATTERN
from services.bank_gateway.periods.rules import KINDS
from services.bank_gateway.periods.schemas import PayoutCreate
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text

period_pages = APIRouter(prefix="/console/periods", include_in_schema=False)
UNAVAILABLE = "结算所需的担保基金数据暂不可用，请稍后再试"


def _unavailable(request: Request, principal: object, error: Exception) -> Response:
    return render_page(
        request, "message.html", principal, message=f"{UNAVAILABLE}（{error}）", status_code=503
    )


@period_pages.get("")
async def period_list(request: Request, session: SessionDep, guarantee: GuaranteeDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    try:
        items, _ = await service.summaries(session, guarantee, shanghai_today())
    except GuaranteeUnavailable as error:
        return _unavailable(request, principal, error)
    return render_page(request, "periods.html", principal, items=list(reversed(items)))


@period_pages.get("/{key}")
async def period_page(
    request: Request,
    session: SessionDep,
    guarantee: GuaranteeDep,
    key: str = Path(pattern=KEY_PATTERN),
    format: Literal["html", "csv", "xlsx", "pdf"] = "html",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    try:
        found = await statements.statement(
            session=session, guarantee=guarantee, key=key, today=shanghai_today()
        )
    except GuaranteeUnavailable as error:
        return _unavailable(request, principal, error)
    except AppError as failure:
        message = problem_text(failure)
        return render_page(request, "message.html", principal, message=message, status_code=404)
    if format != "html":
        try:
            return statement_files.download(found, format)
        except AppError as failure:
            message = problem_text(failure)
            return render_page(request, "message.html", principal, message=message, status_code=503)
    return render_page(
        request,
        "period.html",
        principal,
        statement=found,
        kinds=KINDS,
        unpaid=[f for f in found.enterprises if f.payout is None and f.subsidy_total > 0],
        today=shanghai_today().isoformat(),
    )


@period_pages.post("/{key}/closing")
async def close_period(
    request: Request,
    session: SessionDep,
    guarantee: GuaranteeDep,
    key: str = Path(pattern=KEY_PATTERN),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    await form_data(request)
    try:
        await service.close(
            session=session,
            guarantee=guarantee,
            principal=principal,
            key=key,
            today=shanghai_today(),
        )
    except GuaranteeUnavailable as error:
        return back(f"periods/{key}", error=f"{UNAVAILABLE}（{error}）")
    except AppError as failure:
        await session.rollback()  # nothing of a refused close is kept
        return back(f"periods/{key}", error=problem_text(failure))
    return back(
        f"periods/{key}", done="已关账：本期对账单已冻结，此后的迟到数据将作为调整计入下一期"
    )


@period_pages.post("/{key}/payouts")
async def record_payout(
    request: Request, session: SessionDep, key: str = Path(pattern=KEY_PATTERN)
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    voucher = form.get("voucher_number", "").strip()
    try:
        paid_on = date.fromisoformat(form.get("paid_on", ""))
    except ValueError:
        return back(f"periods/{key}", error="请填写拨付日期（年-月-日）")
    if not voucher or len(voucher) > 60:
        return back(f"periods/{key}", error="请填写拨付凭证号（不超过 60 个字符）")
    chosen = [u for u in form.get("usccs", "").split(",") if u] or None
    body = PayoutCreate(voucher_number=voucher, paid_on=paid_on, usccs=chosen)
    try:
        result = await statements.pay(
            session=session, principal=principal, key=key, body=body, today=shanghai_today()
        )
    except AppError as failure:
        await session.rollback()
        return back(f"periods/{key}", error=problem_text(failure))
    done = f"已登记拨付 {result.paid} 户，合计 ¥{result.amount:,}；企业将在申请页看到到账信息"
    return back(f"periods/{key}", done=done)
