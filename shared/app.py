"""What every service's ``create_app`` has in common: errors, middleware, health, metrics."""

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shared.attempts import Attempts
from shared.audit import AuditChain, AuditSealer, chain_key
from shared.auth import TokenIssuer, TokenVerifier
from shared.contracts.sessions import SessionQuery, SessionState
from shared.db import database_is_ready, make_engine, make_sessionmaker, read_only_engine
from shared.errors import (
    FieldError,
    InvalidRequest,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    install_error_handlers,
    problem_responses,
)
from shared.http import CachedServiceToken, make_service_client
from shared.jobs import Role, Wakeups, Worker, Workers
from shared.middleware import install_middleware
from shared.sessions import SessionGuard, local_status
from shared.settings import BaseServiceSettings

# Which process answers: given by whoever started it (deploy/local.py checks that the
# server answering on a port is its own child, not another stack's), else made up here.
INSTANCE = os.environ.get("PICIDAI_INSTANCE_ID") or uuid.uuid4().hex


class Health(BaseModel):
    status: str
    service: str
    instance: str = INSTANCE
    checks: dict[str, str] = {}


def _health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok", service=service)

    @router.get("/readyz", response_model=Health, responses={503: {"model": Problem}})
    async def readyz(request: Request) -> Health:
        """Readiness: the service's database answers (else 503). The services it calls are
        reported too — "degraded" when one is down: this one still takes work (its outbox
        keeps it), so it stays in rotation."""
        if not await database_is_ready(request.app.state.engine):
            raise ServiceUnavailable("数据库不可用 (database unavailable)")
        checks = {"database": "ok"}
        for name, client in getattr(request.app.state, "dependencies", {}).items():
            checks[name] = await _answers(client)
        degraded = any(v != "ok" for v in checks.values())
        return Health(status="degraded" if degraded else "ready", service=service, checks=checks)

    return router


async def _answers(client: httpx.AsyncClient) -> str:
    try:
        response = await client.get("/healthz", timeout=1.0)
    except httpx.HTTPError:
        return "down"
    return "ok" if response.status_code == 200 else f"down (HTTP {response.status_code})"


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: BaseServiceSettings,
    lifespan: Any,
    routers: list[APIRouter],
    components: dict[str, Any] | None = None,
) -> FastAPI:
    docs = settings.docs_served
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query_parameters)],
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_middleware(
        app, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    app.include_router(_health_router(service))
    for router in routers:
        app.include_router(router)
    _metrics(app, settings)
    _document_problems(app, components or {})
    if settings.trusted_proxies:
        # Outermost: the client address every handler and counter sees is the one the
        # configured proxy forwarded; from anyone else X-Forwarded-For is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def _metrics(app: FastAPI, settings: BaseServiceSettings) -> None:
    """Prometheus metrics (counted by the request pipeline, shared/middleware.py, and by the
    workers): open outside production; in production only with the configured bearer
    token (else not served): request counts and latencies are reconnaissance."""
    token = settings.metrics_token
    if settings.environment == "production" and not token:
        return

    async def scraper(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if token and not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthenticated("需要指标令牌 (metrics token required)")

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(scraper)])
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _query_names(dependant: Any) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


_DECLARED = "_picidai_query_names"  # kept on the route object itself, computed once


async def refuse_unknown_query_parameters(request: Request) -> None:
    """422 for a query parameter the operation does not declare: a misspelt filter
    (``?stauts=open``) would otherwise silently return everything. API operations only;
    pages keep their own small conventions (``?done=`` flash messages)."""
    route = request.scope.get("route")
    if route is None or not getattr(route, "include_in_schema", False):
        return
    declared = getattr(route, _DECLARED, None)
    if declared is None:
        declared = _query_names(route.dependant)
        setattr(route, _DECLARED, declared)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise ValidationFailed(
            f"未知的查询参数：{'、'.join(unknown)}",
            errors=[
                FieldError(
                    field=f"query.{name}",
                    message="此接口没有该查询参数",
                    message_en="unknown query parameter",
                    code="unknown_parameter",
                )
                for name in unknown[:20]
            ],
        )


def _complete_problems(schema: dict[str, Any]) -> None:
    """Document the answers every operation can give because of what wraps them all: the
    unknown-query check and request validation (422, as problem+json rather than FastAPI's
    own JSON), and for a body the middleware's malformed JSON, size and media-type checks."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            wrapping: list[type[Any]] = [ValidationFailed]
            if "requestBody" in operation:
                wrapping += [InvalidRequest, PayloadTooLarge, UnsupportedMediaType]
            for status, entry in problem_responses(*wrapping).items():
                documented = responses.setdefault(str(status), entry)
                documented["content"] = entry["content"]


def _document_problems(app: FastAPI, extra: dict[str, Any]) -> None:
    """Put ``Problem`` in the OpenAPI components so every problem response can refer to it,
    with ``extra``: schemas that routes refer to but FastAPI does not see (a body read raw)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        problem.pop("$defs", None)
        components["Problem"] = problem
        components["FieldError"] = FieldError.model_json_schema()
        for name, definition in extra.items():
            if components.setdefault(name, definition) != definition:
                raise RuntimeError(f"two OpenAPI components named {name}")
        _complete_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def service_resources(
    app: FastAPI,
    settings: BaseServiceSettings,
    *,
    issuer: str,
    audit_chains: Callable[[bytes], list[AuditChain]] | None = None,
    throttle: sa.Table | None = None,
) -> AsyncIterator[None]:
    """What every lifespan holds: the database engine (its sessions wake the app's workers
    when work for them commits), the token issuer/verifier, the sealer of the service's
    audit chain (run with the service's own workers by :func:`run_workers`)."""
    app.state.wakeups = Wakeups()
    attach_database(app, settings.database_url, wakeups=app.state.wakeups)
    attach_auth(app, settings, issuer=issuer)
    if throttle is not None:
        app.state.sign_in_attempts = Attempts(throttle, app.state.sessionmaker)
    if audit_chains is not None:
        app.state.audit_sealer = AuditSealer(
            audit_chains(chain_key(settings.keys_dir, issuer)),
            app.state.sessionmaker,
            service=issuer,
            interval=settings.audit_seal_interval_seconds,
        )
    try:
        yield
    finally:
        await app.state.engine.dispose()


# Set by ``python -m services.<name> worker`` on the app before its lifespan starts.
WORKER_PROCESS = "picidai_worker_process"


def process_role(app: FastAPI, settings: BaseServiceSettings) -> Role:
    if getattr(app.state, WORKER_PROCESS, False):
        return Role.WORKER
    return Role.ALL if settings.workers_in_process else Role.HANDOFF


@asynccontextmanager
async def run_workers(
    app: FastAPI, settings: BaseServiceSettings, *, service: str, workers: list[Worker]
) -> AsyncIterator[None]:
    """Run the service's background workers for the lifespan, the audit sealer with them
    (if the settings run it): in-process loops on SQLite, procrastinate on PostgreSQL — in
    this process, or handed to worker processes (:func:`process_role`)."""
    sealer = getattr(app.state, "audit_sealer", None)
    running = [*workers, *([sealer] if sealer is not None and settings.run_audit_sealer else [])]
    runner = Workers(
        service=service,
        database_url=settings.database_url,
        wakeups=app.state.wakeups,
        role=process_role(app, settings),
    )
    await runner.start(running)
    try:
        yield
    finally:
        await runner.stop()


@asynccontextmanager
async def session_checks(
    app: FastAPI,
    settings: BaseServiceSettings,
    *,
    issuer: str,
    local: Callable[[AsyncSession, SessionQuery], Awaitable[SessionState]] | None = None,
    issuers: dict[str, tuple[str, httpx.AsyncBaseTransport | None]] | None = None,
) -> AsyncIterator[None]:
    """Every human token is confirmed with its issuer (shared/sessions.py): this service's
    own sessions by ``local`` (a read of its database), another issuer's over HTTP at
    ``issuers[name] = (base URL, transport for tests)``."""
    token = CachedServiceToken(
        app.state.token_issuer.service_token, lifetime_seconds=settings.token_ttl_seconds
    )
    clients = {
        name: make_service_client(
            base_url=url, token=token, transport=transport, timeout=httpx.Timeout(3.0)
        )
        for name, (url, transport) in (issuers or {}).items()
    }
    app.state.session_guard = SessionGuard(
        issuer=issuer,
        local=local_status(app.state.read_sessionmaker, local) if local is not None else None,
        issuers=clients,
        cache_seconds=settings.session_cache_seconds,
    )
    try:
        yield
    finally:
        for client in clients.values():
            await client.aclose()


def attach_database(app: FastAPI, url: str, *, wakeups: Wakeups | None = None) -> None:
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(
        engine, info=wakeups.session_info() if wakeups else None
    )
    app.state.read_sessionmaker = make_sessionmaker(read_only_engine(engine))


def attach_auth(app: FastAPI, settings: BaseServiceSettings, *, issuer: str) -> None:
    app.state.token_verifier = TokenVerifier.from_keys_dir(settings.keys_dir)
    app.state.token_issuer = TokenIssuer.from_keys_dir(
        settings.keys_dir, issuer=issuer, ttl_seconds=settings.token_ttl_seconds
    )
