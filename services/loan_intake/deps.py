from typing import Annotated

from shared.auth import Principal, Role, require_roles, require_service
from shared.db import SessionDep

__all__ = [
    "ApplicantDep",
    "GatewayDep",
    "ReaderDep",
    "ReviewerDep",
    "SessionDep",
]


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
