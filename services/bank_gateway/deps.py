from typing import Annotated

from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep

__all__ = ["AdminDep", "BankReaderDep", "SessionDep"]

BankReaderDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN, Role.BANK)]
# Registering banks and handing out their credentials is an administrator's job.
AdminDep = Annotated[Principal, require_roles(Role.ADMIN)]
