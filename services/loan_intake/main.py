"""loan_intake: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from services.loan_intake.accounts import service as accounts
from services.loan_intake.accounts.oidc import IdentityPlatform, PendingCookie
from services.loan_intake.applications.router import router
from services.loan_intake.applications.worker import HandoffWorker, IdempotencySweeper
from services.loan_intake.clients import GuaranteeClient
from services.loan_intake.config import SERVICE, Settings, get_settings
from services.loan_intake.documents.router import router as documents
from services.loan_intake.enterprises.router import router as enterprises
from services.loan_intake.models import ApplicationEvent, AuditEntry, ThrottleEntry
from services.loan_intake.notices.worker import StatusTexter
from services.loan_intake.portal.pages import pages
from services.loan_intake.portal.router import PREFIX as PORTAL_PREFIX
from services.loan_intake.portal.router import portal
from shared.app import create_service_app, run_workers, service_resources, session_checks
from shared.audit import AuditChain, audit_log_chain
from shared.http import CachedServiceToken, make_service_client
from shared.logging import configure_logging
from shared.outbound import FileSink
from shared.web import install_error_pages, mount_assets


def audit_chains(key: bytes) -> list[AuditChain]:
    """An application's history is its audit log: every status change, who, when, why; the
    rest (SME accounts) is in ``audit_log``."""
    history: sa.Table = ApplicationEvent.__table__  # type: ignore[attr-defined]
    content = ("id", "application_id", "from_status", "to_status", "actor", "reason", "at")
    return [
        AuditChain(history, order_by="id", content=(*content, "update_id", "details"), key=key),
        audit_log_chain(AuditEntry, key),
    ]


@asynccontextmanager
async def identity_platform(
    app: FastAPI, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[None]:
    """The city's identity platform, when configured (accounts/oidc.py), and the key that
    signs a pending login's cookie (derived from this service's own signing key)."""
    app.state.oidc_pending = PendingCookie((settings.keys_dir / f"{SERVICE}.pem").read_bytes())
    platform = None
    if settings.oidc_issuer:
        platform = IdentityPlatform(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            uscc_claim=settings.oidc_uscc_claim,
            scope=settings.oidc_scope,
            transport=transport,
        )
    app.state.identity_platform = platform
    try:
        yield
    finally:
        if platform is not None:
            await platform.aclose()


@asynccontextmanager
async def guarantee_handoff(
    app: FastAPI, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[None]:
    """The guarantee client and the outbox worker that feeds it; the status texter."""
    token = CachedServiceToken(
        app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
    )
    http = make_service_client(base_url=settings.guarantee_url, token=token, transport=transport)
    guarantee = GuaranteeClient(http)
    app.state.dependencies = {"guarantee": http}
    app.state.guarantee = guarantee  # the SME's page reads its billed fee schedule
    dispatcher = HandoffWorker(
        sessionmaker=app.state.sessionmaker, client=guarantee, settings=settings
    )
    app.state.dispatcher = dispatcher
    app.state.idempotency_sweeper = IdempotencySweeper(
        sessionmaker=app.state.sessionmaker, settings=settings
    )
    # Messages to people (password codes, status texts): the development sink here.
    app.state.outbound = FileSink(Path(settings.outbound_sink_path))
    app.state.texter = StatusTexter(sessionmaker=app.state.sessionmaker, channel=app.state.outbound)
    workers = (
        [dispatcher, app.state.idempotency_sweeper, app.state.texter]
        if settings.run_outbox_worker
        else []
    )
    try:
        async with run_workers(app, settings, service=SERVICE, workers=workers):
            yield
    finally:
        await guarantee.aclose()


def create_app(
    settings: Settings | None = None,
    *,
    guarantee_transport: httpx.AsyncBaseTransport | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. The transports let tests mount the guarantee service and the gateway
    in-process."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            service_resources(
                app,
                settings,
                issuer=SERVICE,
                audit_chains=audit_chains,
                throttle=ThrottleEntry.__table__,  # type: ignore[attr-defined]
            ),
            session_checks(
                app,
                settings,
                issuer=SERVICE,
                local=accounts.session_state,
                issuers={"bank_gateway": (settings.gateway_url, gateway_transport)},
            ),
            guarantee_handoff(app, settings, guarantee_transport),
            identity_platform(app, settings, oidc_transport),
        ):
            yield

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    app = create_service_app(
        service=SERVICE,
        title="批次贷 · 贷款申请 (loan intake)",
        description="SMEs submit policy-guarantee loan applications and follow their status.",
        settings=settings,
        lifespan=lifespan,
        routers=[router, documents, enterprises, portal],
    )
    mount_assets(app, PORTAL_PREFIX, Path(__file__).parent / "portal" / "static")
    install_error_pages(app, PORTAL_PREFIX, pages, "not_found.html")
    return app
