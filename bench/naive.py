"""The naive peer: what most teams would write with our stack for "take an application".

FastAPI + pydantic request models + SQLModel: the body validated into nested models, one
ORM row added, committed and refreshed, the row returned through a response model — no
idempotency, history, audit, outbox, authentication or middleware. ``make bench`` loads it
in the same run as the raw baseline (bench/baseline.py) and ours, so the three columns are
comparable; it is a yardstick, not part of the product.

    BASELINE_DSN=postgresql://postgres@127.0.0.1:5432/x uvicorn bench.naive:app
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Field as ColumnField
from sqlmodel import SQLModel

DSN = os.environ.get("BASELINE_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
engine = create_async_engine(
    DSN.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=10, max_overflow=10
)
sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


class EnterpriseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")
    registered_district: str
    sector: str
    employees: int = Field(ge=0)
    annual_revenue: Decimal = Field(ge=0, decimal_places=2)
    total_assets: Decimal = Field(ge=0, decimal_places=2)
    established_on: date
    flags: dict[str, bool] = {}


class LoanIn(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2)
    term_months: int = Field(ge=1, le=60)
    purpose: str
    preferred_bank: str | None = None


class ApplicationIn(BaseModel):
    enterprise: EnterpriseIn
    loan: LoanIn


class NaiveApplication(SQLModel, table=True):
    __tablename__ = "naive_applications"

    id: int | None = ColumnField(default=None, primary_key=True)
    uscc: str = ColumnField(index=True)
    name: str
    amount: Decimal = ColumnField(max_digits=14, decimal_places=2)
    term_months: int
    body: dict[str, Any] = ColumnField(sa_column=Column(JSONB, nullable=False))
    status: str = "submitted"
    created_at: datetime = ColumnField(default_factory=lambda: datetime.now(UTC))


class ApplicationOut(BaseModel):
    id: int
    uscc: str
    amount: Decimal
    status: str
    created_at: datetime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield
    await engine.dispose()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


app = FastAPI(lifespan=lifespan)


@app.post("/applications", status_code=201, response_model=ApplicationOut)
async def create(
    body: ApplicationIn, session: Annotated[AsyncSession, Depends(get_session)]
) -> NaiveApplication:
    row = NaiveApplication(
        uscc=body.enterprise.uscc,
        name=body.enterprise.name,
        amount=body.loan.amount,
        term_months=body.loan.term_months,
        body=body.model_dump(mode="json"),
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return row
