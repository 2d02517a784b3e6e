"""The root of the guarantee service's tables: its own metadata, apart from the others'."""

from sqlmodel import SQLModel

from shared.db import new_registry


class GuaranteeModel(SQLModel, registry=new_registry()):
    """Root of the guarantee service's models; its own metadata."""
