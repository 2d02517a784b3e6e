"""guarantee: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.guarantee.assessments.router import assessments
from services.guarantee.audit.router import audit
from services.guarantee.claims.notices import ClaimNoticeSender
from services.guarantee.claims.router import claims
from services.guarantee.config import SERVICE, Settings, get_settings
from services.guarantee.fact_reviews.router import fact_reviews
from services.guarantee.facts.router import reference_lists
from services.guarantee.guarantees.router import guarantees
from services.guarantee.models import AuditEntry
from services.guarantee.policies.router import policies
from services.guarantee.whatif.router import list_whatif_requests, whatif_requests, whatifs
from services.guarantee.whatif.worker import WhatIfRunner
from shared.app import create_service_app, run_workers, service_resources, session_checks
from shared.audit import AuditChain, audit_log_chain
from shared.http import CachedServiceToken, make_service_client
from shared.logging import configure_logging


def audit_chains(key: bytes) -> list[AuditChain]:
    return [audit_log_chain(AuditEntry, key)]


def _gateway_client(
    app: FastAPI, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """The gateway, called with our service token: claim notices go there."""
    token = CachedServiceToken(
        app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
    )
    return make_service_client(
        base_url=settings.gateway_url, token=token, transport=transport, timeout=httpx.Timeout(10)
    )


ROUTERS = [
    assessments,
    policies,
    reference_lists,
    fact_reviews,
    whatif_requests,
    list_whatif_requests,
    whatifs,
    guarantees,
    claims,
    audit,
]


def create_app(
    settings: Settings | None = None, *, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the app. ``gateway_transport`` lets tests mount the gateway in-process."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            service_resources(app, settings, issuer=SERVICE, audit_chains=audit_chains),
            session_checks(
                app,
                settings,
                issuer=SERVICE,
                issuers={"bank_gateway": (settings.gateway_url, gateway_transport)},
            ),
        ):
            gateway = _gateway_client(app, settings, gateway_transport)
            app.state.claim_notices = ClaimNoticeSender(
                sessionmaker=app.state.sessionmaker,
                gateway=gateway,
                backoff=(
                    settings.claim_notice_backoff_base_seconds,
                    settings.claim_notice_backoff_cap_seconds,
                ),
            )
            runner = WhatIfRunner(
                sessionmaker=app.state.sessionmaker,
                chunk_size=settings.whatif_chunk_size,
                processes=settings.whatif_processes,
            )
            app.state.whatif_runner = runner
            workers = [runner] if settings.run_whatif_worker else []
            if settings.run_claim_notice_worker:
                workers.append(app.state.claim_notices)
            try:
                async with run_workers(app, settings, service=SERVICE, workers=workers):
                    yield
            finally:
                runner.close()
                await gateway.aclose()

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    return create_service_app(
        service=SERVICE,
        title="批次贷 · 担保评估 (guarantee)",
        description=(
            "Policy versions (rules as data, four-eyes approval, diff, YAML/JSON import and "
            "export), assessments with their full trace, what-if replays, guarantees in force "
            "(备案), claims (代偿) and recoveries."
        ),
        settings=settings,
        lifespan=lifespan,
        routers=ROUTERS,
    )
