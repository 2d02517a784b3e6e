"""bank_gateway: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.bank_gateway.config import SERVICE, Settings, get_settings
from services.bank_gateway.router import banks
from shared.app import attach_auth, attach_database, create_service_app
from shared.logging import configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        attach_database(app, settings.database_url)
        attach_auth(app, settings, issuer=SERVICE)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    return create_service_app(
        service=SERVICE,
        title="批次贷 · 银行网关 (bank gateway)",
        description="Partner banks, batches and the loan ledger fed by signed bank callbacks.",
        settings=settings,
        lifespan=lifespan,
        routers=[banks],
    )
