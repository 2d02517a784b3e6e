"""The root of the bank gateway's tables: its own metadata, apart from the other services'."""

from sqlmodel import SQLModel

from shared.db import new_registry


class GatewayModel(SQLModel, registry=new_registry()):
    """Root of the bank gateway's models; its own metadata."""
