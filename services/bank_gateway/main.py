"""bank_gateway: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.bank_gateway import notices, repository
from services.bank_gateway.callbacks import CallerBanks
from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.config import SERVICE, Settings, get_settings
from services.bank_gateway.console.policies import policy_pages
from services.bank_gateway.console.reports import report_pages
from services.bank_gateway.console.router import PREFIX as CONSOLE_PREFIX
from services.bank_gateway.console.router import console
from services.bank_gateway.outbox import DeliveryDispatcher
from services.bank_gateway.router import (
    banks,
    batches,
    callbacks,
    deliveries,
    oauth,
    reconciliations,
)
from shared.app import create_service_app, service_resources
from shared.http import CachedServiceToken, make_service_client
from shared.jobs import background
from shared.logging import configure_logging
from shared.web import mount_assets


def create_app(
    settings: Settings | None = None,
    *,
    intake_transport: httpx.AsyncBaseTransport | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    guarantee_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. The transports let tests mount loan_intake and a bank in-process."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_resources(
            app, settings, issuer=SERVICE, audit_chains=repository.audit_chains
        ):
            token = CachedServiceToken(
                app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
            )
            app.state.intake = IntakeClient(
                make_service_client(
                    base_url=settings.intake_url, token=token, transport=intake_transport
                )
            )
            app.state.guarantee = GuaranteeClient(
                make_service_client(
                    base_url=settings.guarantee_url, token=token, transport=guarantee_transport
                )
            )
            app.state.dependencies = {
                "loan_intake": app.state.intake.http,
                "guarantee": app.state.guarantee.http,
            }
            webhooks = httpx.AsyncClient(
                transport=webhook_transport,
                timeout=httpx.Timeout(settings.webhook_timeout_seconds),
                follow_redirects=False,
            )
            dispatcher = DeliveryDispatcher(
                sessionmaker=app.state.sessionmaker,
                intake=app.state.intake,
                webhooks=webhooks,
                guarantee=app.state.guarantee,
                retry_window=timedelta(hours=settings.webhook_retry_hours),
                webhook_backoff=(
                    settings.webhook_backoff_base_seconds,
                    settings.webhook_backoff_cap_seconds,
                ),
                poll_seconds=settings.outbox_poll_seconds,
                lease_seconds=settings.outbox_lease_seconds,
            )
            app.state.dispatcher = dispatcher
            app.state.caller_banks = CallerBanks()
            try:
                async with background(
                    database_url=settings.database_url,
                    service=SERVICE,
                    enabled=settings.run_outbox_worker,
                    runner=dispatcher,
                    steps={"gateway.deliveries": (dispatcher.dispatch_once, 1)},
                ):
                    yield
            finally:
                await dispatcher.stop()
                await webhooks.aclose()
                await app.state.intake.aclose()
                await app.state.guarantee.aclose()

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    app = create_service_app(
        service=SERVICE,
        title="批次贷 · 银行网关 (bank gateway)",
        description=(
            "Partner banks (OAuth2 client credentials, webhook signing secrets), batches and "
            "the loan ledger fed by signed bank callbacks."
        ),
        settings=settings,
        lifespan=lifespan,
        routers=[
            banks,
            batches,
            callbacks,
            reconciliations,
            deliveries,
            oauth,
            console,
            policy_pages,
            report_pages,
        ],
    )
    notices.document(app)
    mount_assets(app, CONSOLE_PREFIX, Path(__file__).parent / "console" / "static")
    return app
