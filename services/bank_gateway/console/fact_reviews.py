"""企业复核申请 in the console: a firm's certificate for a benefit no list in force shows,
checked by a bureau approver — accepted into the bureau's register of that kind, or
rejected with why (the firm reads it). The guarantee service's API with the clerk's token;
the certificate is the firm's paper in loan_intake, opened through the console."""

import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console.calls import OnBehalf, refusal_text
from services.bank_gateway.console.pages import back, names, render_page, staff_member, to_login
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text

review_pages = APIRouter(prefix="/console/fact-reviews", include_in_schema=False)
PAGE = 20
TONES = {"pending": "warn", "accepted": "ok", "rejected": "bad"}


@review_pages.get("")
async def reviews(
    request: Request,
    session: SessionDep,
    tab: str = "pending",
    page: int = Query(1, ge=1, le=1000),
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    wanted = {"status": "pending"} if tab == "pending" else {}
    found = await calls.get(
        calls.guarantee, "/v1/fact-reviews", offset=(page - 1) * PAGE, limit=PAGE, **wanted
    )
    people = await names(session, [r["decided_by"] for r in found["items"]])
    return render_page(
        request,
        "fact_reviews.html",
        principal,
        found=found,
        tab="pending" if tab == "pending" else "all",
        page=page,
        page_size=PAGE,
        tones=TONES,
        people=people,
    )


@review_pages.get("/{review_id}")
async def review(
    request: Request, session: SessionDep, review_id: uuid.UUID, done: str = "", error: str = ""
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        found = await calls.get(calls.guarantee, f"/v1/fact-reviews/{review_id}")
        facts = await calls.get(
            calls.guarantee, "/v1/reference-lists/facts", uscc=found["enterprise_uscc"]
        )
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    [fact] = [f for f in facts["facts"] if f["flag"] == found["flag"]]
    return render_page(
        request,
        "fact_review.html",
        principal,
        r=found,
        fact=fact,
        tones=TONES,
        today=shanghai_today().isoformat(),
        people=await names(session, [found["decided_by"]]),
        done=done,
        error=error,
    )


@review_pages.post("/{review_id}/{action}")
async def decide(request: Request, review_id: uuid.UUID, action: str) -> Response:
    """复核通过 or 未通过 — the guarantee service checks the right to decide."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    here = f"fact-reviews/{review_id}"
    if action not in ("acceptance", "rejection"):
        return back(here, error=f"未知操作 {action}")
    body = {"note": form.get("note") or None}
    if action == "acceptance" and form.get("valid_to"):
        body["valid_to"] = form["valid_to"]
    calls = OnBehalf(request)
    try:
        await calls.post(calls.guarantee, f"/v1/fact-reviews/{review_id}/{action}", body)
    except AppError as failure:
        return back(here, error=refusal_text(failure))
    said = "已通过：企业已列入财政局复核认定名单" if action == "acceptance" else "已退回企业"
    return back(here, done=said)
