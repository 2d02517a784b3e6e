"""The firm's papers on its application page: sent with a form (营业执照, 财务报表, 纳税证明),
listed, and downloaded — through the same service as the API, so the same checks hold."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.loan_intake.documents import service
from services.loan_intake.portal.pages import PREFIX, refusal, to_login
from shared.auth import Role
from shared.db import SessionDep
from shared.errors import AppError
from shared.uploads import MAX_DOCUMENT_BYTES, download_headers
from shared.web import multipart_form, problem_text, signed_in

document_pages = APIRouter(prefix="/portal", include_in_schema=False)


@document_pages.post("/applications/{application_id}/documents")
async def upload(request: Request, application_id: uuid.UUID, session: SessionDep) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    page = f"{PREFIX}applications/{application_id}"
    try:
        fields, file = await multipart_form(request, max_bytes=MAX_DOCUMENT_BYTES)
        if not isinstance(file, UploadFile) or not file.filename:
            return RedirectResponse(f"{page}?document_error=empty#documents", status_code=303)
        _, created = await service.upload(
            session=session,
            principal=principal,
            application_id=application_id,
            kind=fields.get("kind", ""),
            filename=file.filename,
            declared_type=file.content_type or "",
            content=await file.read(MAX_DOCUMENT_BYTES + 1),
        )
    except AppError as error:
        return refusal(request, principal, problem_text(error), error.status)
    done = "uploaded" if created else "kept"
    return RedirectResponse(f"{page}?document={done}#documents", status_code=303)


@document_pages.get("/applications/{application_id}/documents/{document_id}")
async def download(
    request: Request, application_id: uuid.UUID, document_id: uuid.UUID, session: SessionDep
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    try:
        document = await service.get(
            session=session,
            principal=principal,
            application_id=application_id,
            document_id=document_id,
        )
    except AppError as error:
        return refusal(request, principal, problem_text(error), 404)
    return Response(
        document.content,
        media_type=document.content_type,
        headers=download_headers(document.filename),
    )
