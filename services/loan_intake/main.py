"""loan_intake: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.loan_intake import repository
from services.loan_intake.clients import GuaranteeClient
from services.loan_intake.config import SERVICE, Settings, get_settings
from services.loan_intake.outbox import AssessmentDispatcher, IdempotencySweeper
from services.loan_intake.portal import PREFIX as PORTAL_PREFIX
from services.loan_intake.portal import portal
from services.loan_intake.router import router
from shared.app import create_service_app, run_workers, service_resources
from shared.http import CachedServiceToken, make_service_client
from shared.logging import configure_logging
from shared.web import mount_assets


@asynccontextmanager
async def guarantee_handoff(
    app: FastAPI, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[None]:
    """The guarantee client and the outbox worker that feeds it."""
    token = CachedServiceToken(
        app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
    )
    http = make_service_client(base_url=settings.guarantee_url, token=token, transport=transport)
    guarantee = GuaranteeClient(http)
    app.state.dependencies = {"guarantee": http}
    dispatcher = AssessmentDispatcher(
        sessionmaker=app.state.sessionmaker, client=guarantee, settings=settings
    )
    app.state.dispatcher = dispatcher
    app.state.idempotency_sweeper = IdempotencySweeper(
        sessionmaker=app.state.sessionmaker, settings=settings
    )
    workers = [dispatcher, app.state.idempotency_sweeper] if settings.run_outbox_worker else []
    try:
        async with run_workers(app, settings, service=SERVICE, workers=workers):
            yield
    finally:
        await guarantee.aclose()


def create_app(
    settings: Settings | None = None,
    *,
    guarantee_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. ``guarantee_transport`` lets tests mount the guarantee app in-process."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            service_resources(app, settings, issuer=SERVICE, audit_chains=repository.audit_chains),
            guarantee_handoff(app, settings, guarantee_transport),
        ):
            yield

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    app = create_service_app(
        service=SERVICE,
        title="批次贷 · 贷款申请 (loan intake)",
        description="SMEs submit policy-guarantee loan applications and follow their status.",
        settings=settings,
        lifespan=lifespan,
        routers=[router, portal],
    )
    mount_assets(app, PORTAL_PREFIX, Path(__file__).parent / "static")
    return app
