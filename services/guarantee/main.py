"""guarantee: create_app() and its lifespan."""

from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from services.guarantee.config import SERVICE, Settings, get_settings
from services.guarantee.router import assessments, policies
from shared.app import create_service_app, service_resources
from shared.logging import configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
        return service_resources(app, settings, issuer=SERVICE)

    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    return create_service_app(
        service=SERVICE,
        title="批次贷 · 担保评估 (guarantee)",
        description="Policy versions and assessments of applications against them.",
        settings=settings,
        lifespan=lifespan,
        routers=[assessments, policies],
    )
