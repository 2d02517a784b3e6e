"""``POST /v1/sessions/status``: the services that take the gateway's tokens ask here."""

from typing import Annotated

from fastapi import APIRouter

from services.bank_gateway.sessions import service
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS
from shared.auth import Principal, require_service
from shared.contracts.sessions import SessionQuery, SessionState
from shared.db import ReadSessionDep
from shared.errors import problem_responses

sessions = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@sessions.post(
    "/status",
    response_model=SessionState,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS),
)
async def session_status(
    query: SessionQuery,
    session: ReadSessionDep,
    caller: Annotated[Principal, require_service("loan_intake", "guarantee")],
) -> SessionState:
    """Whether a session this gateway issued (a clerk's, an administrator's, a bank's) still
    stands, with the account's permissions now. Service tokens of intake and the guarantee
    service only; they cache the answer for seconds."""
    return await service.state(session=session, query=query)
