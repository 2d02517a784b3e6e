"""bank_gateway: create_app() and its lifespan."""

from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from services.bank_gateway.config import SERVICE, Settings, get_settings
from services.bank_gateway.router import banks, oauth
from shared.app import create_service_app, service_resources
from shared.logging import configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
        return service_resources(app, settings, issuer=SERVICE)

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    return create_service_app(
        service=SERVICE,
        title="批次贷 · 银行网关 (bank gateway)",
        description=(
            "Partner banks (OAuth2 client credentials, webhook signing secrets), batches and "
            "the loan ledger fed by signed bank callbacks."
        ),
        settings=settings,
        lifespan=lifespan,
        routers=[banks, oauth],
    )
