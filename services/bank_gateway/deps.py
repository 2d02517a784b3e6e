from typing import Annotated

from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep

__all__ = ["BankReaderDep", "SessionDep"]

BankReaderDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN, Role.BANK)]
