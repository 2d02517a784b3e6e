"""bank_gateway: create_app() and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.bank_gateway.banks.router import banks, oauth
from services.bank_gateway.banks.signatures import CallerBanks
from services.bank_gateway.batches.router import batches
from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.config import SERVICE, Settings, get_settings, private_webhooks_allowed
from services.bank_gateway.console.pages import pages
from services.bank_gateway.console.router import PREFIX as CONSOLE_PREFIX
from services.bank_gateway.console.router import console
from services.bank_gateway.filings.router import filings
from services.bank_gateway.ledger import decisions, top_ups
from services.bank_gateway.ledger.router import (
    EVENT_COMPONENTS,
    callbacks,
    claim_documents,
    claim_notices,
    reconciliations,
    three_way_checks,
)
from services.bank_gateway.ledger.three_way_worker import ThreeWayReconciler
from services.bank_gateway.models import AuditEntry, ThrottleEntry
from services.bank_gateway.notifications import notices
from services.bank_gateway.notifications.router import deliveries
from services.bank_gateway.notifications.worker import DeliveryWorker
from services.bank_gateway.periods.router import periods
from services.bank_gateway.sessions.router import sessions
from services.bank_gateway.sessions.service import state as session_state
from services.bank_gateway.staff.router import staff
from shared import sealed
from shared.app import create_service_app, run_workers, service_resources, session_checks
from shared.audit import AuditChain, audit_log_chain
from shared.http import CachedServiceToken, make_service_client
from shared.jobs import Worker
from shared.logging import configure_logging
from shared.web import install_error_pages, mount_assets


def audit_chains(key: bytes) -> list[AuditChain]:
    return [audit_log_chain(AuditEntry, key)]


def _clients(
    app: FastAPI,
    settings: Settings,
    intake_transport: httpx.AsyncBaseTransport | None,
    guarantee_transport: httpx.AsyncBaseTransport | None,
) -> None:
    """The typed clients of loan_intake and the guarantee service, with a service token."""
    token = CachedServiceToken(
        app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
    )
    app.state.intake = IntakeClient(
        make_service_client(base_url=settings.intake_url, token=token, transport=intake_transport)
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


def _delivery_worker(
    app: FastAPI, settings: Settings, webhooks: httpx.AsyncClient
) -> DeliveryWorker:
    return DeliveryWorker(
        sessionmaker=app.state.sessionmaker,
        intake=app.state.intake,
        webhooks=webhooks,
        guarantee=app.state.guarantee,
        # The guarantee service's answers that move the ledger: handed to it from here, so
        # the outbox (notifications) never depends on the ledger.
        answers={
            "guarantee.recovery": decisions.record_recovery_share,
            # A filing raises the batch's ceiling: claims it cut may be topped up.
            "guarantee.filing": top_ups.after_filing,
            "guarantee.topups": top_ups.record_top_ups,
        },
        # … and its refusals that are decisions: a 备案 refused leaves the loan unguaranteed.
        refusals={
            "guarantee.filing": decisions.record_filing_refusal,
            # … and a claim filed outside the policy's window is not taken.
            "guarantee.claim": decisions.record_claim_refusal,
        },
        retry_window=timedelta(hours=settings.webhook_retry_hours),
        webhook_backoff=(
            settings.webhook_backoff_base_seconds,
            settings.webhook_backoff_cap_seconds,
        ),
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        private_webhooks=private_webhooks_allowed(settings),
    )


ROUTERS = [
    banks,
    staff,
    sessions,
    batches,
    callbacks,
    filings,
    reconciliations,
    claim_notices,
    claim_documents,
    three_way_checks,
    periods,
    deliveries,
    oauth,
    console,
]


def _workers(app: FastAPI, settings: Settings) -> list[Worker]:
    """The outbox, and the three-way reconciliation on its schedule."""
    workers: list[Worker] = [app.state.dispatcher] if settings.run_outbox_worker else []
    if settings.three_way_interval_seconds > 0:
        workers.append(
            ThreeWayReconciler(
                sessionmaker=app.state.sessionmaker,
                read_sessionmaker=app.state.read_sessionmaker,
                guarantee=app.state.guarantee,
                intake=app.state.intake,
                interval_seconds=settings.three_way_interval_seconds,
            )
        )
    return workers


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
        # The banks' signing secrets are stored sealed with these keys (shared/sealed.py).
        sealed.install(settings.keys_dir, SERVICE, create=settings.environment != "production")
        async with (
            service_resources(
                app,
                settings,
                issuer=SERVICE,
                audit_chains=audit_chains,
                throttle=ThrottleEntry.__table__,  # type: ignore[attr-defined]
            ),
            session_checks(app, settings, issuer=SERVICE, local=session_state),
        ):
            _clients(app, settings, intake_transport, guarantee_transport)
            webhooks = httpx.AsyncClient(
                transport=webhook_transport,
                timeout=httpx.Timeout(settings.webhook_timeout_seconds),
                follow_redirects=False,
            )
            app.state.dispatcher = _delivery_worker(app, settings, webhooks)
            app.state.caller_banks = CallerBanks()
            try:
                async with run_workers(
                    app, settings, service=SERVICE, workers=_workers(app, settings)
                ):
                    yield
            finally:
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
        routers=ROUTERS,
        components=EVENT_COMPONENTS,
    )
    notices.document(app)
    mount_assets(app, CONSOLE_PREFIX, Path(__file__).parent / "console" / "static")
    install_error_pages(app, CONSOLE_PREFIX, pages, "message.html")
    return app
