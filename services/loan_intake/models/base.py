"""The root of loan_intake's tables: its own metadata, apart from the other services'."""

from sqlmodel import SQLModel

from shared.db import new_registry


class IntakeModel(SQLModel, registry=new_registry()):
    """Root of loan_intake's models; its own metadata, apart from the other services'."""
