"""申请复核: a firm whose declared benefit (高新技术企业, 专精特新 …) no list in force shows
sends its certificate and asks the bureau to check it. The certificate is kept among the
application's papers (the same checks as any paper); the request goes to the guarantee
service, which keeps the bureau's decision; the application page shows where it stands."""

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.loan_intake.applications import service as applications
from services.loan_intake.applications.schemas import ApplicationPublic
from services.loan_intake.clients import GuaranteeRefused, GuaranteeUnavailable
from services.loan_intake.documents import service as documents
from services.loan_intake.portal.pages import PREFIX, refusal, to_login
from shared.auth import Role
from shared.contracts.assessment import EnterpriseFlags
from shared.db import SessionDep
from shared.errors import AppError
from shared.uploads import MAX_DOCUMENT_BYTES
from shared.web import multipart_form, problem_text, signed_in

review_pages = APIRouter(prefix="/portal", include_in_schema=False)
BENEFITS = ("specialized_new", "little_giant", "high_tech", "tech_sme")
BARS = ("fact.bad_credit_2y", "fact.phase_out_list")


def _back(application_id: uuid.UUID, **said: str) -> RedirectResponse:
    return RedirectResponse(
        f"{PREFIX}applications/{application_id}?{urlencode(said)}#facts", status_code=303
    )


def _checked(fields: dict[str, str], file: object) -> str | None:
    """What is wrong with the form, in words; None when it can be sent."""
    if not isinstance(file, UploadFile) or not file.filename:
        return "请附上证书（PDF、JPG 或 PNG）"
    if fields.get("flag") not in BENEFITS:
        return "请选择申请复核的事项"
    if len(fields.get("certificate_no", "").strip()) < 2:
        return "请填写证书编号"
    valid_to = fields.get("valid_to", "").strip()
    if valid_to:
        try:
            date.fromisoformat(valid_to)
        except ValueError:
            return "证书有效期至应为日期（YYYY-MM-DD）"
    if len(fields.get("note", "")) > 2000:
        return "说明不超过 2000 字"
    return None


@review_pages.post("/applications/{application_id}/fact-reviews")
async def request_review(
    request: Request, application_id: uuid.UUID, session: SessionDep
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    try:
        fields, file = await multipart_form(request, max_bytes=MAX_DOCUMENT_BYTES)
        application = await applications.get_application(
            session=session, principal=principal, application_id=application_id
        )
        wrong = _checked(fields, file)
        if wrong is not None or not isinstance(file, UploadFile):
            return _back(application_id, review_error=wrong or "")
        paper, _ = await documents.upload(
            session=session,
            principal=principal,
            application_id=application_id,
            kind="qualification_certificate",
            filename=file.filename or "证书",
            declared_type=file.content_type or "",
            content=await file.read(MAX_DOCUMENT_BYTES + 1),
        )
        await session.commit()  # kept before the request that names it is sent
    except AppError as error:
        return refusal(request, principal, problem_text(error), error.status)
    body = {
        "application_id": str(application_id),
        "uscc": application.enterprise.uscc,
        "enterprise_name": application.enterprise.name,
        "flag": fields["flag"],
        "certificate_no": fields["certificate_no"].strip(),
        "valid_to": fields.get("valid_to", "").strip() or None,
        "note": fields.get("note", "").strip(),
        "document_id": str(paper.id),
        "document_name": paper.filename,
        "requested_by": principal.actor,
    }
    try:
        await request.app.state.guarantee.request_fact_review(body)
    except (GuaranteeUnavailable, GuaranteeRefused):
        return _back(
            application_id, review_error="证书已上传，但复核申请暂未送达财政局，请稍后再提交一次"
        )
    label = EnterpriseFlags.model_fields[fields["flag"]].description
    return _back(application_id, review=f"已申请复核“{label}”，财政局处理后将在此显示结果")


async def review_context(request: Request, application: ApplicationPublic) -> dict[str, Any]:
    """For the application page: the firm's requests for review and where they stand, and
    the benefits it may still ask about (declared, on no list in force, none pending or
    accepted)."""
    unverified = [
        r.code.removeprefix("fact.")
        for r in application.reasons or []
        if r.code.removeprefix("fact.") in BENEFITS and not r.passed
    ]
    said = {
        "review_done": request.query_params.get("review", "")[:200],
        "review_error": request.query_params.get("review_error", "")[:200],
        # A bar a list names (失信, 三高一低): corrected by the list's issuer, not by review.
        "listed_bars": [
            r.message_zh.split("：", 1)[0]
            for r in application.reasons or []
            if r.code in BARS and not r.passed and r.message_zh.endswith("：以名单为准")
        ],
    }
    if not unverified:
        return {"fact_reviews": [], "reviewable": [], "reviews_unavailable": False, **said}
    try:
        reviews = await request.app.state.guarantee.fact_reviews_of(application.id)
    except GuaranteeUnavailable:
        return {"fact_reviews": [], "reviewable": [], "reviews_unavailable": True, **said}
    settled = {r["flag"] for r in reviews if r["status"] in ("pending", "accepted")}
    return {
        "fact_reviews": reviews,
        "reviewable": [
            (flag, EnterpriseFlags.model_fields[flag].description)
            for flag in unverified
            if flag not in settled
        ],
        "reviews_unavailable": False,
        **said,
    }
