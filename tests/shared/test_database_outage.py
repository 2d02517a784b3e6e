"""The pool does not ping before each transaction (shared/db.py): a connection the database
dropped fails its first statement. That request is a 503 problem saying nothing was saved;
the pool is renewed and the next request goes through."""

from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import Tokens, fund_settings, is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="the server drops connections")


async def test_a_dropped_connection_is_a_503_then_the_service_recovers(
    guarantee_db: str, keys_dir: Path, session_issuer: Any, tokens: Tokens
) -> None:
    from services.guarantee.main import create_app

    # No background work on the pool: the request is the first to meet the dead connection.
    settings = fund_settings(guarantee_db, keys_dir).model_copy(update={"run_audit_sealer": False})
    app = create_app(settings, gateway_transport=httpx.ASGITransport(app=session_issuer))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    bureau = tokens.header(tokens.bureau())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://guarantee") as client,
    ):
        assert (await client.get("/v1/policies/in-force", headers=bureau)).status_code == 200

        url = sa.engine.make_url(guarantee_db)
        admin = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database
        )
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()

        dropped = await client.get("/v1/policies/in-force", headers=bureau)
        assert dropped.status_code == 503, dropped.text
        assert dropped.headers["content-type"] == "application/problem+json"
        assert "未保存" in dropped.json()["detail"]
        again = await client.get("/v1/policies/in-force", headers=bureau)
        assert again.status_code == 200
