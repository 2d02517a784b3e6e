"""Bureau staff accounts, managed by an administrator: who may sign in, who approves."""

from fastapi import APIRouter

from services.bank_gateway.deps import AdminDep, SessionDep
from services.bank_gateway.staff import service
from services.bank_gateway.staff.exceptions import StaffNotFound
from services.bank_gateway.staff.schemas import StaffPublic, StaffUpdate
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS
from shared.errors import problem_responses

staff = APIRouter(prefix="/v1/staff", tags=["staff"])


@staff.get("", response_model=list[StaffPublic], responses=problem_responses(*AUTH_PROBLEMS))
async def list_staff(session: SessionDep, principal: AdminDep) -> list[StaffPublic]:
    """Every console account, by username."""
    return await service.list_staff(session=session)


@staff.patch(
    "/{username}",
    response_model=StaffPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, StaffNotFound),
)
async def update_staff(
    username: str, payload: StaffUpdate, session: SessionDep, principal: AdminDep
) -> StaffPublic:
    """Deactivate a clerk (every session of theirs ends at once, cookie or bearer) or change
    the approver right (read again on their next request)."""
    return await service.update_staff(
        session=session, principal=principal, username=username, payload=payload
    )
