"""A guarantee service of its own for the policy-version and what-if tests.

Approving versions changes which policy is in force; on its own database that cannot
change what the other tests are assessed under. Its what-if worker is stepped by hand.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Databases, Tokens, asgi_client, off_loop


@pytest.fixture(scope="session")
def policy_db(databases: Databases) -> str:
    from services.guarantee.config import Settings
    from services.guarantee.demo import seed

    url = databases.new("guarantee_policies", migrate="guarantee")
    off_loop(asyncio.run, seed(Settings(database_url=url)))
    return url


@pytest.fixture
async def policy_app(policy_db: str, keys_dir: Path, session_issuer: Any) -> AsyncIterator[Any]:
    from services.guarantee.config import Settings
    from services.guarantee.main import create_app

    settings = Settings(
        database_url=policy_db,
        keys_dir=keys_dir,
        environment="test",
        run_whatif_worker=False,
        whatif_chunk_size=7,
        whatif_processes=0,
        gateway_url="http://gateway",
        session_cache_seconds=0,
    )
    app = create_app(settings, gateway_transport=httpx.ASGITransport(app=session_issuer))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def policy_client(policy_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(policy_app, "http://guarantee") as client:
        yield client


class Bureau:
    """Three bureau people: Alice drafts, Bob has no approver permission, Carol approves.
    "Alice" here is the approver ``dora``, who has no console account (so her token's
    permissions stand): the console's own alice is no approver, and permissions are re-read
    per request (shared/sessions.py)."""

    def __init__(self, tokens: Tokens) -> None:
        self.alice = tokens.header(tokens.bureau("dora", approver=True))
        self.bob = tokens.header(tokens.bureau("bob"))
        self.carol = tokens.header(tokens.bureau("carol", approver=True))


@pytest.fixture(scope="session")
def bureau(tokens: Tokens) -> Bureau:
    return Bureau(tokens)
