"""Reference lists: imported from the issuer's file (CSV or Excel, previewed first), read,
submitted with the day they take effect and approved or sent back by a second person; and a
firm's facts as the lists in force on a day show them."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.guarantee.deps import BureauDep, SessionDep, StaffDep
from services.guarantee.facts import changes, service
from services.guarantee.facts.exceptions import ListFileInvalid, ListNotFound, ListStateConflict
from services.guarantee.facts.kinds import ListKind
from services.guarantee.facts.schemas import (
    FirmFacts,
    ListDecision,
    ListEntryPage,
    ListImportResult,
    ListingChangePage,
    ListStatus,
    ListSubmission,
    ReferenceListPage,
    ReferenceListPublic,
)
from services.guarantee.facts.views import firm_facts
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.clock import shanghai_today
from shared.contracts.assessment import USCC_PATTERN
from shared.errors import (
    ApprovePermissionRequired,
    FieldError,
    FourEyesRequired,
    ValidationFailed,
    problem_responses,
)

reference_lists = APIRouter(prefix="/v1/reference-lists", tags=["reference lists"])

LIST_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in (
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
    }
}
# A day as YYYY-MM-DD only: pydantic's date would also take "+0.0" as a timestamp.
ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


Header = Annotated[str | None, Query(max_length=100, description="The file's header for it")]


@reference_lists.post(
    "/files",
    status_code=201,
    response_model=ListImportResult,
    responses={
        200: {"description": "A preview (dry_run), or this file imported before"},
        **problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, ListFileInvalid, ValidationFailed),
    },
    openapi_extra=LIST_FILE,
)
async def import_list(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: BureauDep,
    kind: ListKind,
    issuer: Annotated[str, Query(min_length=2, max_length=200)],
    batch: Annotated[str, Query(min_length=1, max_length=200, description="e.g. 2025年第一批")],
    title: Annotated[str, Query(min_length=2, max_length=300)],
    filename: Annotated[str, Query(min_length=1, max_length=255)],
    dry_run: bool = False,
    uscc_column: Header = None,
    name_column: Header = None,
    certificate_no_column: Header = None,
    valid_from_column: Header = None,
    valid_to_column: Header = None,
) -> ListImportResult:
    """An issuer's list as a draft: the body is the file (CSV in UTF-8 or GBK, or .xlsx),
    columns found by their usual Chinese headers unless named. ``dry_run``: the preview only
    (columns, first rows, every bad row). A bad row imports nothing; the same entries again
    answer the list made before (200)."""
    columns = {
        field: header
        for field, header in {
            "uscc": uscc_column,
            "name": name_column,
            "certificate_no": certificate_no_column,
            "valid_from": valid_from_column,
            "valid_to": valid_to_column,
        }.items()
        if header
    }
    result = await service.import_list(
        session=session,
        principal=principal,
        file=service.ListFile(
            kind,
            issuer.strip(),
            batch.strip(),
            title.strip(),
            filename,
            await request.body(),
            columns,
        ),
        dry_run=dry_run,
        today=shanghai_today(),
    )
    if not result.created:
        response.status_code = 200
    return result


@reference_lists.get(
    "", response_model=ReferenceListPage, responses=problem_responses(*AUTH_PROBLEMS)
)
async def list_lists(
    session: SessionDep,
    principal: StaffDep,
    kind: ListKind | None = None,
    status: ListStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ReferenceListPage:
    """Reference lists, the latest imported first."""
    return await service.list_page(
        session=session,
        kind=kind.value if kind else None,
        status=status,
        offset=offset,
        limit=limit,
        today=shanghai_today(),
    )


@reference_lists.get(
    "/changes",
    response_model=ListingChangePage,
    responses=problem_responses(*AUTH_PROBLEMS),
)
async def listing_changes(
    session: SessionDep, principal: StaffDep, offset: Offset = 0, limit: Limit = 50
) -> ListingChangePage:
    """Firms with 在保余额 whose standing on the lists changed since their guarantees were
    issued — named by a barring list in force today, or on no list in force of a benefit
    they were issued on — the largest exposure first, with what the policy makes of it."""
    return await changes.listing_changes(
        session=session, today=shanghai_today(), offset=offset, limit=limit
    )


@reference_lists.get(
    "/facts",
    response_model=FirmFacts,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def facts_of_firm(
    session: SessionDep,
    principal: StaffDep,
    uscc: Annotated[str, Query(pattern=USCC_PATTERN)],
    on: Annotated[
        str | None,
        Query(pattern=ISO_DAY, description="YYYY-MM-DD (Asia/Shanghai); today if omitted"),
    ] = None,
) -> FirmFacts:
    """Which lists in force on the day name the firm, fact by fact (as if it declared none)."""
    return await firm_facts(session=session, uscc=uscc, on=_day(on) if on else shanghai_today())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"日期 {text} 不存在",
            errors=[
                FieldError(
                    field="query.on",
                    message=f"日期 {text} 不存在",
                    message_en="not a calendar day",
                    code="date_invalid",
                )
            ],
        ) from None


@reference_lists.get(
    "/{list_id}",
    response_model=ReferenceListPublic,
    responses=problem_responses(*AUTH_PROBLEMS, ListNotFound),
)
async def get_list(
    list_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> ReferenceListPublic:
    return await service.get(session=session, list_id=list_id, today=shanghai_today())


@reference_lists.get(
    "/{list_id}/entries",
    response_model=ListEntryPage,
    responses=problem_responses(*AUTH_PROBLEMS, ListNotFound),
)
async def list_entries(
    list_id: uuid.UUID,
    session: SessionDep,
    principal: StaffDep,
    q: Annotated[str, Query(max_length=100, description="Part of a USCC or a name")] = "",
    offset: Offset = 0,
    limit: Limit = 50,
) -> ListEntryPage:
    """The list's firms, by USCC."""
    return await service.entries(
        session=session, list_id=list_id, text=q.strip(), offset=offset, limit=limit
    )


@reference_lists.post(
    "/{list_id}/submission",
    response_model=ReferenceListPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, ListNotFound, ListStateConflict, ValidationFailed
    ),
)
async def submit_list(
    list_id: uuid.UUID, body: ListSubmission, session: SessionDep, principal: BureauDep
) -> ReferenceListPublic:
    """A draft sent for approval, with the first (and, if it lapses, the last) day it counts."""
    return await service.submit(
        session=session,
        principal=principal,
        list_id=list_id,
        effective_from=body.effective_from,
        expires_on=body.expires_on,
        today=shanghai_today(),
    )


DECISION_PROBLEMS = (
    *AUTH_PROBLEMS,
    *BODY_PROBLEMS,
    ListNotFound,
    ListStateConflict,
    FourEyesRequired,
    ApprovePermissionRequired,
    ValidationFailed,
)


@reference_lists.post(
    "/{list_id}/approval",
    response_model=ReferenceListPublic,
    responses=problem_responses(*DECISION_PROBLEMS),
)
async def approve_list(
    list_id: uuid.UUID, body: ListDecision, session: SessionDep, principal: BureauDep
) -> ReferenceListPublic:
    """批准 by a bureau approver who neither imported nor submitted it: in force from its
    day; the series' earlier version stops counting then."""
    return await service.decide(
        session=session,
        principal=principal,
        list_id=list_id,
        approve=True,
        note=body.note,
        today=shanghai_today(),
    )


@reference_lists.post(
    "/{list_id}/rejection",
    response_model=ReferenceListPublic,
    responses=problem_responses(*DECISION_PROBLEMS),
)
async def reject_list(
    list_id: uuid.UUID, body: ListDecision, session: SessionDep, principal: BureauDep
) -> ReferenceListPublic:
    """退回: the list never counts (import a corrected file as a new draft)."""
    return await service.decide(
        session=session,
        principal=principal,
        list_id=list_id,
        approve=False,
        note=body.note,
        today=shanghai_today(),
    )
