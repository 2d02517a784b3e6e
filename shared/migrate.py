"""Alembic, one chain per service, run from code (``python -m services.<name> migrate``)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from shared.db import make_engine
from shared.jobs import ensure_schema, uses_procrastinate


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations_dir, database_url), revision)
    if uses_procrastinate(database_url):
        ensure_schema(database_url)  # background work's job tables (shared/jobs.py)


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """procrastinate's tables (shared/jobs.py) are its own, installed by its own schema."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url not set"
    options = {
        "target_metadata": target_metadata,
        "render_as_batch": url.startswith("sqlite"),
        "compare_type": True,
        "include_name": _ours,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run_sync(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = make_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run_sync)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run_async())
