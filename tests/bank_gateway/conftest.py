import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bank_receiver import BankInbox, create_receiver
from tests.conftest import IntakeHarness, Tokens, application_body, asgi_client, make_uscc

# The shipped policy's required claim papers, and a (tiny) PDF to stand for each.
REQUIRED_PAPERS = ("accident_report", "collection_records", "loan_contract")
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@dataclass
class Desk:
    """loan_intake (with the guarantee service behind it), the bank gateway reading it, and
    a partner bank's webhook endpoint the gateway notifies."""

    intake: IntakeHarness
    gateway: httpx.AsyncClient
    tokens: Tokens
    app: Any
    bank: BankInbox
    policy_version_id: str = ""
    credentials: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    guarantee_app: Any = None

    async def deliver(self, rounds: int = 10) -> None:
        """Run the gateway's outbox and the guarantee service's claim notices until nothing
        is due (what their workers do). Every notification the bank got must match its
        model in the OpenAPI document's webhooks."""
        from services.bank_gateway.notifications.notices import ENVELOPES

        for _ in range(rounds):
            done = await self.app.state.dispatcher.step()
            if self.guarantee_app is not None:
                done += await self.guarantee_app.state.claim_notices.step()
            if done == 0:
                break
        for notice in self.bank.events:
            ENVELOPES[notice["type"]].model_validate(notice)

    async def decide_claim(
        self,
        loan_id: str,
        verdict: str = "approve",
        *,
        amount: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """The fund's reviewer decides the loan's claim — a second person confirms when the
        policy asks — and the gateway hears of it; the claim as it stands."""
        body: dict[str, Any] = {"verdict": verdict, "amount": amount, "reason": reason}
        reviewer = self.tokens.header(self.tokens.fund("fund-dave"))
        if verdict != "deny":
            await self.attach_papers(loan_id)
        async with asgi_client(self.guarantee_app, "http://guarantee") as fund:
            decided = await fund.post(f"/v1/claims/{loan_id}/decision", json=body, headers=reviewer)
            assert decided.status_code == 200, decided.text
            if decided.json()["status"] == "awaiting_second":
                second = self.tokens.header(self.tokens.fund("fund-erin", approver=True))
                decided = await fund.post(
                    f"/v1/claims/{loan_id}/second-review", json={"agree": True}, headers=second
                )
                assert decided.status_code == 200, decided.text
        await self.deliver()
        return decided.json()

    async def guarantee_pay(self, loan_id: str, amount: str) -> dict[str, Any]:
        """The fund records paying the claim's compensation today; the gateway hears."""
        from shared.clock import shanghai_today

        body = {"paid_on": shanghai_today().isoformat(), "reference": "PZ-T1", "amount": amount}
        async with asgi_client(self.guarantee_app, "http://guarantee") as fund:
            paid = await fund.post(
                f"/v1/claims/{loan_id}/payments",
                json=body,
                headers=self.tokens.header(self.tokens.fund("fund-dave")),
            )
        assert paid.status_code == 200, paid.text
        await self.deliver()
        return paid.json()

    async def attach_papers(self, loan_id: str) -> None:
        """The papers the policy requires of a claim, as the gateway passes a bank's on."""
        gateway = self.tokens.header(self.tokens.service("bank_gateway"))
        async with asgi_client(self.guarantee_app, "http://guarantee") as fund:
            for kind in REQUIRED_PAPERS:
                kept = await fund.post(
                    f"/v1/claims/{loan_id}/documents?kind={kind}&filename={kind}.pdf",
                    content=PDF + kind.encode(),
                    headers={**gateway, "Content-Type": "application/pdf"},
                )
                assert kept.status_code in (200, 201), kept.text

    async def register_bank(self, name: str | None = None) -> str:
        """A bank whose webhooks reach ``self.bank``; its code."""
        code = f"t{uuid.uuid4().hex[:8]}"
        response = await self.gateway.post(
            "/v1/banks",
            json={
                "code": code,
                "name": name or f"测试银行{code}",
                "webhook_url": "http://bank.test/hooks",
            },
            headers=self.tokens.header(self.tokens.admin()),
        )
        assert response.status_code == 201, response.text
        created = response.json()
        self.bank.secret = created["signing_secret"]
        self.credentials[code] = (
            created["client_id"],
            created["client_secret"],
            created["signing_secret"],
        )
        return code

    async def eligible_applications(
        self, count: int, *, uscc: str | None = None, listed: str | None = None, **overrides: Any
    ) -> list[str]:
        """``count`` applications, each of a new firm or all of ``uscc``; each firm first on an
        approved reference list of kind ``listed`` if given (its declared benefit verified)."""
        ids = []
        for _ in range(count):
            uscc_of = uscc or make_uscc()
            if listed is not None:
                from tests.guarantee.factories import approved_list

                async with asgi_client(self.guarantee_app, "http://guarantee") as fund:
                    await approved_list(fund, self.tokens, listed, [uscc_of])
            response = await self.intake.client.post(
                "/v1/applications",
                json=application_body(uscc_of, **overrides),
                headers=self.tokens.header(self.tokens.sme(uscc_of)),
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        await self.intake.drain()
        return ids


def gateway_settings(database_url: str, keys_dir: Path) -> Any:
    """The gateway as a test drives it: no workers (the test steps them), no waits."""
    from services.bank_gateway.config import Settings

    return Settings(
        database_url=database_url,
        keys_dir=keys_dir,
        environment="test",
        intake_url="http://intake",
        guarantee_url="http://guarantee",
        run_outbox_worker=False,
        three_way_interval_seconds=0,  # the reconciler too: tests step it
        webhook_backoff_base_seconds=0.0,
        webhook_backoff_cap_seconds=0.0,
        session_cache_seconds=0,
    )


@pytest.fixture
async def desk(
    intake: IntakeHarness, guarantee_app: Any, gateway_db: str, keys_dir: Path, tokens: Tokens
) -> AsyncIterator[Desk]:
    from services.bank_gateway.main import create_app

    settings = gateway_settings(gateway_db, keys_dir)
    inbox = BankInbox()
    app = create_app(
        settings,
        intake_transport=httpx.ASGITransport(app=intake.app),
        webhook_transport=httpx.ASGITransport(app=create_receiver(inbox)),
        guarantee_transport=httpx.ASGITransport(app=guarantee_app),
    )
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        in_force = await guarantee.get(
            "/v1/policies/in-force", headers=tokens.header(tokens.bureau())
        )
    async with app.router.lifespan_context(app), asgi_client(app, "http://gateway") as client:
        yield Desk(
            intake,
            client,
            tokens,
            app,
            inbox,
            policy_version_id=in_force.json()["id"],
            guarantee_app=guarantee_app,
        )
