"""What every service offers alike: health, readiness, metrics, OpenAPI, problem+json."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import asgi_client

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["loan_intake", "guarantee", "bank_gateway"])
async def service_client(
    request: pytest.FixtureRequest, keys_dir: Path
) -> AsyncIterator[tuple[str, httpx.AsyncClient, Any]]:
    name = request.param
    db = request.getfixturevalue(
        {"loan_intake": "intake_db", "guarantee": "guarantee_db", "bank_gateway": "gateway_db"}[
            name
        ]
    )
    module = __import__(f"services.{name}.main", fromlist=["create_app"])
    config = __import__(f"services.{name}.config", fromlist=["Settings"])
    # The services each one calls are nowhere: readiness reports them down.
    nowhere = "http://127.0.0.1:1"
    extra: dict[str, Any] = {
        "loan_intake": {"run_outbox_worker": False, "guarantee_url": nowhere},
        "guarantee": {},
        "bank_gateway": {
            "run_outbox_worker": False,
            "intake_url": nowhere,
            "guarantee_url": nowhere,
        },
    }[name]
    settings = config.Settings(database_url=db, keys_dir=keys_dir, environment="test", **extra)
    app = module.create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, f"http://{name}") as client:
        yield name, client, app


async def test_health_and_readiness(service_client: tuple[str, httpx.AsyncClient, Any]) -> None:
    name, client, _ = service_client
    live = await client.get("/healthz")
    answer = live.json()
    assert answer.pop("instance")  # which process answers (deploy/local.py checks it)
    assert answer == {"status": "ok", "service": name, "checks": {}}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    downstream = {
        "loan_intake": {"guarantee": "down"},
        "guarantee": {},
        "bank_gateway": {"loan_intake": "down", "guarantee": "down"},
    }[name]
    assert ready.json()["checks"] == {"database": "ok", **downstream}
    # Still in rotation: its outbox keeps the work for the service that is down.
    assert ready.json()["status"] == ("degraded" if downstream else "ready")


async def test_readiness_reports_a_dead_database(
    service_client: tuple[str, httpx.AsyncClient, Any],
) -> None:
    _, client, app = service_client
    working = app.state.engine
    from shared.db import make_engine

    app.state.engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        response = await client.get("/readyz")
    finally:
        await app.state.engine.dispose()
        app.state.engine = working
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/service-unavailable"


async def test_metrics_are_prometheus_text(
    service_client: tuple[str, httpx.AsyncClient, Any],
) -> None:
    _, client, _ = service_client
    await client.get("/healthz")
    await client.get("/v1/does-not-exist")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_openapi_documents_problems(
    service_client: tuple[str, httpx.AsyncClient, Any],
) -> None:
    _, client, _ = service_client
    schema = (await client.get("/openapi.json")).json()
    assert schema["openapi"].startswith("3.")
    assert "Problem" in schema["components"]["schemas"]
    v1 = [p for p in schema["paths"] if p.startswith("/v1/")]
    assert v1
    for path in v1:
        for operation in schema["paths"][path].values():
            assert operation.get("description") or operation.get("summary"), path
            assert "401" in operation["responses"], f"{path} does not document 401"


async def test_unknown_route_and_method_are_problems(
    service_client: tuple[str, httpx.AsyncClient, Any],
) -> None:
    _, client, _ = service_client
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "/problems/not-found"
    wrong = await client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "/problems/method-not-allowed"


async def test_the_gateway_documents_every_notification_a_bank_receives(
    gateway_client: httpx.AsyncClient,
) -> None:
    schema = (await gateway_client.get("/openapi.json")).json()
    assert set(schema["webhooks"]) == {
        "batch.opened",
        "batch.loans_added",
        "batch.suspended",
        "batch.reopened",
        "batch.closed",
        "filing.refused",
        "claim.refused",
        "claim.decided",
        "claim.paid",
        "recovery.shared",
    }
    body = schema["webhooks"]["claim.decided"]["post"]["requestBody"]["content"]
    notice = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    envelope = schema["components"]["schemas"][notice]
    assert set(envelope["required"]) == {"type", "timestamp", "data"}
    assert "Standard Webhooks" in schema["webhooks"]["claim.decided"]["post"]["description"]


async def test_cors_is_closed(service_client: tuple[str, httpx.AsyncClient, Any]) -> None:
    """No cross-origin reads: no Access-Control-Allow-Origin for another site, preflight
    refused."""
    _, client, _ = service_client
    read = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in read.headers
    preflight = await client.options(
        "/healthz",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("name", ["loan_intake", "guarantee", "bank_gateway"])
async def test_production_serves_no_docs_and_metrics_only_with_the_token(
    name: str, keys_dir: Path
) -> None:
    """Issue 14, item 8: /docs, /openapi.json and /metrics were open on every service port."""
    module = __import__(f"services.{name}.main", fromlist=["create_app"])
    config = __import__(f"services.{name}.config", fromlist=["Settings"])
    production = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "keys_dir": keys_dir,
    }
    closed = module.create_app(config.Settings(**production))
    async with asgi_client(closed, f"http://{name}") as client:  # no lifespan: no database
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            assert (await client.get(path)).status_code == 404, path
    scraped = module.create_app(
        config.Settings(**production, metrics_token="s3cret-scrape", public_docs=True)
    )
    async with asgi_client(scraped, f"http://{name}") as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert right.status_code == 200 and "http_request" in right.text
        assert (await client.get("/openapi.json")).status_code == 200
