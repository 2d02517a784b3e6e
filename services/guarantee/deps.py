from typing import Annotated

from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep

__all__ = ["AssessorDep", "ServiceCallerDep", "SessionDep", "StaffDep"]

# Assessments are requested by loan_intake (service token) or by staff by hand.
AssessorDep = Annotated[Principal, require_roles(Role.SERVICE, Role.BUREAU, Role.ADMIN)]
ServiceCallerDep = Annotated[Principal, require_roles(Role.SERVICE)]
StaffDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN, Role.SERVICE)]
