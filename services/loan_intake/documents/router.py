"""/v1/applications/{id}/documents: a firm's papers, by API (the portal has its own form)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.loan_intake.applications.exceptions import ApplicationNotFound
from services.loan_intake.deps import ApplicantDep, ReaderDep, SessionDep
from services.loan_intake.documents import service
from services.loan_intake.documents.exceptions import (
    DocumentInvalid,
    DocumentNotFound,
    DocumentUnsupported,
    TooManyDocuments,
)
from services.loan_intake.documents.schemas import DocumentPublic
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, FILE_BODY
from shared.errors import ValidationFailed, problem_responses
from shared.uploads import download_headers

router = APIRouter(prefix="/v1/applications", tags=["documents"])


@router.post(
    "/{application_id}/documents",
    status_code=201,
    response_model=DocumentPublic,
    responses={
        200: {"description": "This file was kept before", "model": DocumentPublic},
        **problem_responses(
            *AUTH_PROBLEMS,
            *BODY_PROBLEMS,
            ApplicationNotFound,
            DocumentInvalid,
            DocumentUnsupported,
            TooManyDocuments,
        ),
    },
    openapi_extra=FILE_BODY,
)
async def upload_document(
    application_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: ApplicantDep,
    response: Response,
    kind: Annotated[str, Query(min_length=1, max_length=40)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
) -> DocumentPublic:
    """One paper of the application: the body is the file (PDF, JPEG or PNG, recognised by
    its content, at most 10 MB); ``kind``: business_licence, financial_statements,
    tax_certificate, qualification_certificate (sent with a request for review) or other."""
    document, created = await service.upload(
        session=session,
        principal=principal,
        application_id=application_id,
        kind=kind,
        filename=filename,
        declared_type=request.headers.get("content-type", ""),
        content=await request.body(),
    )
    if not created:
        response.status_code = 200
    return document


@router.get(
    "/{application_id}/documents",
    response_model=list[DocumentPublic],
    responses=problem_responses(*AUTH_PROBLEMS, ApplicationNotFound, ValidationFailed),
)
async def list_documents(
    application_id: uuid.UUID, session: SessionDep, principal: ReaderDep
) -> list[DocumentPublic]:
    """The application's papers, oldest first (without their bytes)."""
    return await service.list_for(
        session=session, principal=principal, application_id=application_id
    )


@router.get(
    "/{application_id}/documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")}},
        **problem_responses(*AUTH_PROBLEMS, ApplicationNotFound, DocumentNotFound),
    },
)
async def download_document(
    application_id: uuid.UUID, document_id: uuid.UUID, session: SessionDep, principal: ReaderDep
) -> Response:
    """The paper itself, as an attachment: never rendered in the service's own origin."""
    document = await service.get(
        session=session,
        principal=principal,
        application_id=application_id,
        document_id=document_id,
    )
    return Response(
        content=document.content,
        media_type=document.content_type,
        headers=download_headers(document.filename),
    )
