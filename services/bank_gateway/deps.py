"""Dependencies of the gateway's routes, as type aliases (``principal: BureauDep``)."""

from typing import Annotated

from fastapi import Depends, Request

from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from shared.auth import Principal, Role, require_roles, require_service
from shared.db import SessionDep

__all__ = [
    "AdminDep",
    "BankDep",
    "BankReaderDep",
    "BureauDep",
    "GuaranteeCallerDep",
    "GuaranteeDep",
    "IntakeDep",
    "SessionDep",
]

BankReaderDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN, Role.BANK)]
# Registering banks and handing out their credentials is an administrator's job.
AdminDep = Annotated[Principal, require_roles(Role.ADMIN)]

# Batches are the finance bureau's: drafted, approved and watched by bureau staff.
BureauDep = Annotated[Principal, require_roles(Role.BUREAU, Role.ADMIN)]

# The guarantee service tells of claims its fund decided and paid: its own token only.
GuaranteeCallerDep = Annotated[Principal, require_service("guarantee")]

# Callbacks: a bank's own OAuth token; its signature is checked on top.
BankDep = Annotated[Principal, require_roles(Role.BANK)]


def _intake(request: Request) -> IntakeClient:
    return request.app.state.intake


IntakeDep = Annotated[IntakeClient, Depends(_intake)]


def _guarantee(request: Request) -> GuaranteeClient:
    return request.app.state.guarantee


GuaranteeDep = Annotated[GuaranteeClient, Depends(_guarantee)]
