"""A read-only session never waits for a writer (SQLite begins it deferred): a session check
asked by a service that the writer is calling must not wait for the writer to finish."""

import asyncio

import sqlalchemy as sa

from services.bank_gateway.models import RevokedSession
from shared.db import make_engine, make_sessionmaker, read_only_engine
from tests.conftest import Databases

TABLE: sa.Table = RevokedSession.__table__  # type: ignore[attr-defined]


async def test_a_read_does_not_wait_for_an_open_write(databases: Databases) -> None:
    engine = make_engine(databases.new("read_only", migrate="bank_gateway"))
    writes, reads = make_sessionmaker(engine), make_sessionmaker(read_only_engine(engine))
    try:
        async with writes() as writer, writer.begin():
            await writer.execute(sa.delete(TABLE))  # holds the write lock until the end
            async with reads() as reader:
                found = await asyncio.wait_for(
                    reader.execute(sa.select(sa.func.count()).select_from(TABLE)), timeout=5
                )
                assert found.scalar() == 0
    finally:
        await engine.dispose()
