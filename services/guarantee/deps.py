from typing import Annotated

from shared.auth import Principal, Role, require_roles, require_service
from shared.db import SessionDep

__all__ = [
    "AssessorDep",
    "BureauDep",
    "ClaimReaderDep",
    "FundDep",
    "GatewayCallerDep",
    "IntakeCallerDep",
    "SessionDep",
    "StaffDep",
    "StaffOrGatewayDep",
    "StaffOrIntakeDep",
]

# Assessments are requested by loan_intake (service token) or by staff by hand.
AssessorDep = Annotated[
    Principal, require_roles(Role.BUREAU, Role.ADMIN, services=("loan_intake",))
]
# Batches of assessments come from loan_intake's outbox; guarantees (备案), claims and
# recoveries from the bank gateway, which hears them from the banks.
IntakeCallerDep = Annotated[Principal, require_service("loan_intake")]
GatewayCallerDep = Annotated[Principal, require_service("bank_gateway")]
# Reading policies, assessments, guarantees and claims is staff work; a service token reads
# only what that service needs (least privilege: a leaked intake key lists no claims).
StaffDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN)]
# The gateway reads a policy version (a batch's terms) and firms' 在保余额 (the per-firm cap
# at allocation); intake reads the guarantee of an application (the SME's billed fees).
StaffOrGatewayDep = Annotated[
    Principal, require_roles(Role.BUREAU, Role.ADMIN, services=("bank_gateway",))
]
StaffOrIntakeDep = Annotated[
    Principal, require_roles(Role.BUREAU, Role.ADMIN, services=("loan_intake",))
]
# Policy changes and what-if runs are people's work: the finance bureau and admins.
BureauDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN)]
# Claims are reviewed, decided and paid by the guarantee fund's staff (担保基金); the bureau
# and admins read them.
FundDep = Annotated[Principal, require_roles(Role.FUND)]
ClaimReaderDep = Annotated[Principal, require_roles(Role.FUND, Role.BUREAU, Role.ADMIN)]
