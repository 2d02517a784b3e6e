from typing import Annotated

from shared.auth import Principal, Role, require_roles, require_service
from shared.db import SessionDep

__all__ = [
    "AssessorDep",
    "BureauDep",
    "GatewayCallerDep",
    "IntakeCallerDep",
    "SessionDep",
    "StaffDep",
]

# Assessments are requested by loan_intake (service token) or by staff by hand.
AssessorDep = Annotated[
    Principal, require_roles(Role.BUREAU, Role.ADMIN, services=("loan_intake",))
]
# Batches of assessments come from loan_intake's outbox; guarantees (备案), claims and
# recoveries from the bank gateway, which hears them from the banks.
IntakeCallerDep = Annotated[Principal, require_service("loan_intake")]
GatewayCallerDep = Annotated[Principal, require_service("bank_gateway")]
StaffDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN, Role.SERVICE)]
# Policy changes and what-if runs are people's work: the finance bureau and admins.
BureauDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN)]
