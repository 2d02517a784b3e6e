from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IntakeHarness, Tokens, application_body, asgi_client, make_uscc


@dataclass
class Desk:
    """loan_intake (with the guarantee service behind it) and the bank gateway reading it."""

    intake: IntakeHarness
    gateway: httpx.AsyncClient
    tokens: Tokens

    async def eligible_applications(self, count: int, **overrides: Any) -> list[str]:
        ids = []
        for _ in range(count):
            uscc = make_uscc()
            response = await self.intake.client.post(
                "/v1/applications",
                json=application_body(uscc, **overrides),
                headers=self.tokens.header(self.tokens.sme(uscc)),
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        await self.intake.drain()
        return ids


@pytest.fixture
async def desk(
    intake: IntakeHarness, gateway_db: str, keys_dir: Path, tokens: Tokens
) -> AsyncIterator[Desk]:
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    settings = Settings(
        database_url=gateway_db, keys_dir=keys_dir, environment="test", intake_url="http://intake"
    )
    app = create_app(settings, intake_transport=httpx.ASGITransport(app=intake.app))
    async with app.router.lifespan_context(app), asgi_client(app, "http://gateway") as client:
        yield Desk(intake, client, tokens)
