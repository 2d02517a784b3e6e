from typing import Annotated

from fastapi import Depends, Request

from services.loan_intake.outbox import AssessmentDispatcher
from shared.auth import Principal, Role, require_roles, require_service
from shared.db import SessionDep

__all__ = [
    "ApplicantDep",
    "DispatcherDep",
    "GatewayDep",
    "ReaderDep",
    "ReviewerDep",
    "SessionDep",
]


async def _dispatcher(request: Request) -> AssessmentDispatcher | None:
    return getattr(request.app.state, "dispatcher", None)


# Who may submit: the SME for itself; bureau and admin staff on an SME's behalf.
ApplicantDep = Annotated[Principal, require_roles(Role.SME, Role.BUREAU, Role.ADMIN)]
# The bank gateway reads applications (service token) to allocate them into batches.
ReaderDep = Annotated[
    Principal, require_roles(Role.SME, Role.BUREAU, Role.ADMIN, services=("bank_gateway",))
]
# Referred applications are decided by the finance bureau.
ReviewerDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN)]
# Loan changes come from the bank gateway only.
GatewayDep = Annotated[Principal, require_service("bank_gateway")]
DispatcherDep = Annotated[AssessmentDispatcher | None, Depends(_dispatcher)]
