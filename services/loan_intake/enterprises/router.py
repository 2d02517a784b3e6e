"""/v1/enterprises: the bureau finds a firm and reads its profile."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.loan_intake.deps import ReviewerDep, SessionDep
from services.loan_intake.enterprises import service
from services.loan_intake.enterprises.exceptions import EnterpriseNotFound
from services.loan_intake.enterprises.schemas import EnterprisePage, EnterpriseProfile
from shared.api import AUTH_PROBLEMS
from shared.errors import ValidationFailed, problem_responses

router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"])


@router.get(
    "",
    response_model=EnterprisePage,
    responses=problem_responses(*AUTH_PROBLEMS, ValidationFailed),
)
async def list_enterprises(
    session: SessionDep,
    principal: ReviewerDep,
    q: Annotated[str | None, Query(max_length=100, description="USCC prefix or name part")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> EnterprisePage:
    """Firms that applied, latest first, by USCC or name."""
    text = q.strip() if q and q.strip() else None
    return await service.search(session=session, text=text, page=page, page_size=page_size)


@router.get(
    "/{uscc}",
    response_model=EnterpriseProfile,
    responses=problem_responses(*AUTH_PROBLEMS, EnterpriseNotFound, ValidationFailed),
)
async def get_enterprise(
    session: SessionDep,
    principal: ReviewerDep,
    uscc: Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> EnterpriseProfile:
    """One firm: facts, contacts, the latest declared financials and its applications."""
    return await service.profile(
        session=session, principal=principal, uscc=uscc, page=page, page_size=page_size
    )
