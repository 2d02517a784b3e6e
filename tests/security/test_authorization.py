"""The authorization matrix: every operation of every service's OpenAPI document × every
kind of caller, against objects of tenant A, with the exact status each must get.

Callers: nobody, two enterprises (A owns the objects, B does not), bureau staff with and
without the approve permission, two banks (A's batch and loans, B a stranger), an
administrator, a reviewer of the guarantee fund, and each of the three services' own
tokens. Another tenant's object is 404, never 403: a stranger must not learn that it
exists. Where a caller is allowed, the request is built to stop just past authorization (an
invalid body → 422, a state that forbids the step → 409) so the matrix never changes the
world it checks, and a route that let a caller through by mistake would show a different
status.

A route missing from the table fails the test: a new route must say who may call it.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from shared.clock import shanghai_today
from tests.bank_gateway.batches.test_opening import staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
from tests.bank_gateway.ledger.test_events import event, repayment
from tests.conftest import application_body, asgi_client, make_uscc

CALLERS = (
    "anonymous",
    "sme_a",
    "sme_b",
    "bureau",
    "approver",
    "bank_a",
    "bank_b",
    "admin",
    "fund",
    "intake",
    "guarantee",
    "gateway",
)
STAFF = ("bureau", "approver", "admin")
SERVICES = ("intake", "guarantee", "gateway")
BANKS = ("bank_a", "bank_b")
SMES = ("sme_a", "sme_b")

# A body every operation that takes one must refuse: no model accepts this field.
PROBE = {"matrix_probe": True}


def only(status: int, *callers: str, **exceptions: int) -> dict[str, int]:
    """``callers`` get ``status``; anonymous 401; everyone else 403; then ``exceptions``."""
    expected = {caller: 403 for caller in CALLERS}
    expected["anonymous"] = 401
    expected.update(dict.fromkeys(callers, status))
    expected.update(exceptions)
    return expected


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


@dataclass(frozen=True)
class Case:
    service: str
    method: str
    template: str  # the OpenAPI path, e.g. /v1/batches/{batch_id}
    path: str  # with tenant A's objects filled in
    expected: dict[str, int]
    body: Any = None
    raw: bool = False  # send ``body`` as bytes (signed-callback routes read it raw)


@dataclass
class World:
    """Tenant A's objects, made through the API as users would."""

    application: str  # SME A's, assessed eligible, then allocated and its loan disbursed
    withdrawn: str  # SME A's, withdrawn: no further step is allowed
    bank_a: str
    bank_b: str
    batch: str  # bank A's, open
    loan: str  # bank A's, defaulted and claimed (compensated by the fund)
    assessment: str
    policy: str  # in force
    whatif: str
    delivery: str  # delivered


async def build_world(desk: Desk) -> tuple[World, str, str]:
    bank, [loan], batch = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan, **repayment("1990000.00")))
    await default(bank, loan, "10000.00")
    filed = await bank.send(claim(loan, "10000.00", "0.00"))
    assert filed.status_code == 200, filed.text
    await desk.deliver()
    await desk.decide_claim(loan)

    loans = await desk.gateway.get(f"/v1/batches/{batch}/loans", headers=staff(desk, "bob"))
    application = next(i for i in loans.json()["items"] if i["id"] == loan)["application_id"]
    bureau = desk.tokens.header(desk.tokens.bureau())
    found = await desk.intake.client.get(f"/v1/applications/{application}", headers=bureau)
    uscc_a = found.json()["enterprise"]["uscc"]

    # A second application of enterprise A, withdrawn.
    sme_a = desk.tokens.header(desk.tokens.sme(uscc_a))
    submitted = await desk.intake.client.post(
        "/v1/applications", json=application_body(uscc_a), headers=sme_a
    )
    assert submitted.status_code == 202, submitted.text
    withdrawn = submitted.json()["id"]
    done = await desk.intake.client.post(
        f"/v1/applications/{withdrawn}/withdrawal", json={"reason": "资金需求已满足"}, headers=sme_a
    )
    assert done.status_code == 200, done.text

    async with asgi_client(desk.intake.guarantee_link.inner.app, "http://guarantee") as g:
        in_force = (await g.get("/v1/policies/in-force", headers=bureau)).json()["id"]
        job = await g.post(
            f"/v1/policies/{in_force}/whatif",
            json={"period_from": "2026-01-01", "period_to": "2026-01-31"},
            headers=bureau,
        )
        assert job.status_code == 202, job.text
    deliveries = await desk.gateway.get(
        f"/v1/deliveries?bank={bank.code}&status=delivered", headers=bureau
    )
    assert deliveries.status_code == 200, deliveries.text
    bank_b = await desk.register_bank()
    world = World(
        application=application,
        withdrawn=withdrawn,
        bank_a=bank.code,
        bank_b=bank_b,
        batch=batch,
        loan=loan,
        assessment=found.json()["assessment_id"],
        policy=in_force,
        whatif=job.json()["id"],
        delivery=deliveries.json()["items"][0]["id"],
    )
    return world, uscc_a, make_uscc()


def cases(w: World) -> list[Case]:
    intake = "loan_intake"
    guarantee = "guarantee"
    gateway = "bank_gateway"
    staff_or_gateway = (*STAFF, "gateway")
    health = [
        Case(service, "GET", path, path, everyone(200))
        for service in (intake, guarantee, gateway)
        for path in ("/healthz", "/readyz")
    ]
    app_a = f"/v1/applications/{w.application}"
    policy = f"/v1/policies/{w.policy}"
    bank_a = f"/v1/banks/{w.bank_a}"
    batch = f"/v1/batches/{w.batch}"
    # A bank reads its own batch and loans; the other bank gets 404 for them.
    bank_reader = only(200, *STAFF, "bank_a", bank_b=404)
    return [
        *health,
        # --- loan_intake -----------------------------------------------------------------
        Case(
            intake, "POST", "/v1/applications", "/v1/applications", only(422, *SMES, *STAFF), PROBE
        ),
        Case(
            intake,
            "GET",
            "/v1/applications",
            "/v1/applications",
            only(200, *SMES, *staff_or_gateway),
        ),
        Case(
            intake,
            "GET",
            "/v1/applications/{application_id}",
            app_a,
            only(200, "sme_a", *staff_or_gateway, sme_b=404),
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/{application_id}/withdrawal",
            f"/v1/applications/{w.withdrawn}/withdrawal",
            only(409, "sme_a", *STAFF, sme_b=404),
            {"reason": "矩阵检查"},
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/{application_id}/supplement",
            f"{app_a}/supplement",
            only(409, "sme_a", *STAFF, sme_b=404),
            {"note": "矩阵检查"},
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/{application_id}/review",
            f"{app_a}/review",
            only(422, *STAFF),
            PROBE,
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/bank-filed",
            "/v1/applications/bank-filed",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/loan-updates",
            "/v1/applications/loan-updates",
            only(422, "gateway"),
            PROBE,
        ),
        # A firm's papers: it and the bureau add them; whoever reads the application reads them.
        Case(
            intake,
            "POST",
            "/v1/applications/{application_id}/documents",
            f"{app_a}/documents",
            only(422, "sme_a", "sme_b", *STAFF),
        ),
        Case(
            intake,
            "GET",
            "/v1/applications/{application_id}/documents",
            f"{app_a}/documents",
            only(200, "sme_a", *staff_or_gateway, sme_b=404),
        ),
        Case(
            intake,
            "GET",
            "/v1/applications/{application_id}/documents/{document_id}",
            f"{app_a}/documents/{uuid.UUID(int=7)}",
            only(404, "sme_a", "sme_b", *staff_or_gateway),
        ),
        # Finding a firm is the bureau's; an unknown code is 404 to them.
        Case(intake, "GET", "/v1/enterprises", "/v1/enterprises", only(200, *STAFF)),
        Case(
            intake,
            "GET",
            "/v1/enterprises/{uscc}",
            "/v1/enterprises/913101180000000000",
            only(404, *STAFF),
        ),
        # The three-way reconciliation asks intake and the fund for their figures.
        Case(
            intake,
            "POST",
            "/v1/applications/statuses",
            "/v1/applications/statuses",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            intake,
            "POST",
            "/v1/applications/{application_id}/loan-updates",
            f"{app_a}/loan-updates",
            only(422, "gateway"),
            PROBE,
        ),
        # --- guarantee -------------------------------------------------------------------
        Case(
            guarantee,
            "POST",
            "/v1/assessments",
            "/v1/assessments",
            only(422, *STAFF, "intake"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/assessments/preview",
            "/v1/assessments/preview",
            only(422, *STAFF, "intake"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/assessments/batch",
            "/v1/assessments/batch",
            only(422, "intake"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/assessments/lapses",
            "/v1/assessments/lapses",
            only(422, "intake"),
            PROBE,
        ),
        Case(
            guarantee,
            "GET",
            "/v1/assessments/{assessment_id}",
            f"/v1/assessments/{w.assessment}",
            only(200, *STAFF),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/assessments/{assessment_id}/replay",
            f"/v1/assessments/{w.assessment}/replay",
            only(200, *STAFF),
        ),
        Case(guarantee, "GET", "/v1/policies", "/v1/policies", only(200, *STAFF)),
        Case(guarantee, "POST", "/v1/policies", "/v1/policies", only(422, *STAFF), PROBE),
        Case(
            guarantee,
            "GET",
            "/v1/policies/in-force",
            "/v1/policies/in-force",
            only(200, *STAFF, "gateway"),
        ),
        Case(
            guarantee, "POST", "/v1/policies/check", "/v1/policies/check", only(422, *STAFF), PROBE
        ),
        Case(guarantee, "GET", "/v1/policies/{policy_id}", policy, only(200, *STAFF, "gateway")),
        *(
            Case(
                guarantee,
                method,
                f"/v1/policies/{{policy_id}}/{step}",
                f"{policy}/{step}",
                only(422, *STAFF),
                PROBE,
            )
            for method, step in (
                ("PUT", "document"),
                ("POST", "submission"),
                ("POST", "approval"),
                ("POST", "rejection"),
                ("POST", "whatif"),
            )
        ),
        *(
            Case(
                guarantee,
                "GET",
                f"/v1/policies/{{policy_id}}/{view}",
                f"{policy}/{view}",
                only(200, *STAFF),
            )
            for view in ("export", "diff")
        ),
        # Reference lists: the bureau imports and approves; staff read; no one else.
        Case(
            guarantee,
            "POST",
            "/v1/reference-lists/files",
            "/v1/reference-lists/files",
            only(422, *STAFF),
            PROBE,
        ),
        Case(guarantee, "GET", "/v1/reference-lists", "/v1/reference-lists", only(200, *STAFF)),
        Case(
            guarantee,
            "GET",
            "/v1/reference-lists/changes",
            "/v1/reference-lists/changes",
            only(200, *STAFF),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/reference-lists/facts",
            "/v1/reference-lists/facts?uscc=91310118MA1JL0000X",
            only(200, *STAFF),
        ),
        *(
            Case(
                guarantee,
                "GET",
                f"/v1/reference-lists/{{list_id}}{view}",
                f"/v1/reference-lists/{uuid.UUID(int=7)}{view}",
                only(404, *STAFF),
            )
            for view in ("", "/entries")
        ),
        *(
            Case(
                guarantee,
                "POST",
                f"/v1/reference-lists/{{list_id}}/{step}",
                f"/v1/reference-lists/{uuid.UUID(int=7)}/{step}",
                only(422, *STAFF),
                PROBE,
            )
            for step in ("submission", "approval", "rejection", "whatif")
        ),
        # A firm's request for review: sent by intake for the firm; the bureau decides.
        Case(guarantee, "POST", "/v1/fact-reviews", "/v1/fact-reviews", only(422, "intake"), PROBE),
        Case(guarantee, "GET", "/v1/fact-reviews", "/v1/fact-reviews", only(200, *STAFF, "intake")),
        Case(
            guarantee,
            "GET",
            "/v1/fact-reviews/{review_id}",
            f"/v1/fact-reviews/{uuid.UUID(int=7)}",
            only(404, *STAFF),
        ),
        *(
            Case(
                guarantee,
                "POST",
                f"/v1/fact-reviews/{{review_id}}/{step}",
                f"/v1/fact-reviews/{uuid.UUID(int=7)}/{step}",
                only(422, *STAFF),
                PROBE,
            )
            for step in ("acceptance", "rejection")
        ),
        Case(guarantee, "GET", "/v1/whatif/{job_id}", f"/v1/whatif/{w.whatif}", only(200, *STAFF)),
        Case(
            guarantee,
            "GET",
            "/v1/whatif/{job_id}/changes",
            f"/v1/whatif/{w.whatif}/changes",
            only(200, *STAFF),
        ),
        Case(guarantee, "GET", "/v1/audit", "/v1/audit", only(200, *STAFF)),
        Case(guarantee, "POST", "/v1/guarantees", "/v1/guarantees", only(422, "gateway"), PROBE),
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/subsidies",
            "/v1/guarantees/subsidies?month_from=2026-01&month_to=2026-12",
            only(200, *STAFF),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/{loan_id}",
            f"/v1/guarantees/{w.loan}",
            only(200, *STAFF, "fund"),
        ),
        # The statements' fee lines: the bureau, and the gateway that draws its statements.
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/fee-lines",
            "/v1/guarantees/fee-lines?month_from=2026-01&month_to=2026-12",
            only(200, *STAFF, "gateway"),
        ),
        # 担保费实收: the fund records receipts; the bureau reads them.
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/{loan_id}/fee-collections",
            f"/v1/guarantees/{w.loan}/fee-collections",
            only(200, *STAFF, "fund"),
        ),
        Case(
            guarantee,
            "POST",
            "/v1/guarantees/{loan_id}/fee-collections",
            f"/v1/guarantees/{w.loan}/fee-collections",
            only(422, "fund"),
            PROBE,
        ),
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/of-application/{application_id}",
            f"/v1/guarantees/of-application/{w.application}",
            only(200, *STAFF, "intake"),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/exposure",
            "/v1/guarantees/exposure?group=bank",
            only(200, *STAFF),
        ),
        Case(
            guarantee,
            "POST",
            "/v1/guarantees/exposure/firms",
            "/v1/guarantees/exposure/firms",
            only(422, *STAFF, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "GET",
            "/v1/guarantees/exposure/{uscc}",
            "/v1/guarantees/exposure/91310118MA1JL0000X",
            only(200, *STAFF),
        ),
        Case(
            guarantee,
            "POST",
            "/v1/guarantees/{loan_id}/outstanding",
            f"/v1/guarantees/{w.loan}/outstanding",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/guarantees/{loan_id}/overdue",
            f"/v1/guarantees/{w.loan}/overdue",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/guarantees/{loan_id}/release",
            f"/v1/guarantees/{w.loan}/release",
            only(422, "gateway"),
            PROBE,
        ),
        Case(guarantee, "POST", "/v1/claims", "/v1/claims", only(422, "gateway"), PROBE),
        Case(
            guarantee,
            "POST",
            "/v1/claims/fund-view",
            "/v1/claims/fund-view",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "POST",
            "/v1/claims/top-ups",
            "/v1/claims/top-ups",
            only(422, "gateway"),
            PROBE,
        ),
        Case(guarantee, "GET", "/v1/claims", "/v1/claims", only(200, *STAFF, "fund")),
        Case(
            guarantee,
            "POST",
            "/v1/claims/{loan_id}/recoveries",
            f"/v1/claims/{w.loan}/recoveries",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "GET",
            "/v1/claims/{loan_id}",
            f"/v1/claims/{w.loan}",
            only(200, *STAFF, "fund"),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/claims/{loan_id}/room",
            f"/v1/claims/{w.loan}/room",
            only(200, *STAFF, "fund"),
        ),
        # The fund's review: its reviewers only (the world's claim is decided: taking it is
        # a 409; a body is refused before its state is looked at).
        Case(
            guarantee,
            "POST",
            "/v1/claims/{loan_id}/take",
            f"/v1/claims/{w.loan}/take",
            only(409, "fund"),
        ),
        # A claim's papers: the gateway passes a bank's on; the fund and the bureau read them.
        Case(
            guarantee,
            "POST",
            "/v1/claims/{loan_id}/documents",
            f"/v1/claims/{w.loan}/documents",
            only(422, "gateway"),
            PROBE,
        ),
        Case(
            guarantee,
            "GET",
            "/v1/claims/{loan_id}/documents",
            f"/v1/claims/{w.loan}/documents",
            only(200, *STAFF, "fund"),
        ),
        Case(
            guarantee,
            "GET",
            "/v1/claims/{loan_id}/documents/{document_id}",
            f"/v1/claims/{w.loan}/documents/{uuid.uuid4()}",
            only(404, *STAFF, "fund"),
        ),
        *(
            Case(
                guarantee,
                "POST",
                f"/v1/claims/{{loan_id}}/{step}",
                f"/v1/claims/{w.loan}/{step}",
                only(422, "fund"),
                PROBE,
            )
            for step in ("decision", "second-review", "payments")
        ),
        # --- bank_gateway ----------------------------------------------------------------
        Case(
            gateway, "POST", "/v1/claim-notices", "/v1/claim-notices", only(422, "guarantee"), PROBE
        ),
        Case(
            gateway,
            "GET",
            "/v1/reconciliation/three-way",
            "/v1/reconciliation/three-way",
            only(200, *STAFF),
        ),
        # Fiscal periods: the bureau's; closing one is an approver's (2000-01 has none).
        Case(gateway, "GET", "/v1/periods", "/v1/periods", only(200, *STAFF)),
        Case(gateway, "GET", "/v1/periods/{key}", "/v1/periods/2000-01", only(404, *STAFF)),
        Case(
            gateway,
            "POST",
            "/v1/periods/{key}/closing",
            "/v1/periods/2000-01/closing",
            only(404, "approver"),
        ),
        Case(
            gateway,
            "POST",
            "/v1/periods/{key}/payouts",
            "/v1/periods/2000-01/payouts",
            only(422, *STAFF),
            PROBE,
        ),
        # Before its body is read, a bank's upload names its kind and file (else 422).
        Case(
            gateway,
            "POST",
            "/v1/bank/loans/{loan_id}/claim-documents",
            f"/v1/bank/loans/{w.loan}/claim-documents",
            only(422, *BANKS),
            PROBE,
        ),
        # The firm's papers for the loan: its own bank only; another bank does not see it.
        Case(
            gateway,
            "GET",
            "/v1/bank/loans/{loan_id}/application-documents",
            f"/v1/bank/loans/{w.loan}/application-documents",
            only(200, "bank_a", bank_b=404),
        ),
        Case(
            gateway,
            "GET",
            "/v1/bank/loans/{loan_id}/application-documents/{document_id}",
            f"/v1/bank/loans/{w.loan}/application-documents/{uuid.UUID(int=7)}",
            only(404, *BANKS),
        ),
        Case(gateway, "GET", "/v1/banks", "/v1/banks", only(200, *STAFF, *BANKS)),
        Case(gateway, "POST", "/v1/banks", "/v1/banks", only(422, "admin"), PROBE),
        Case(gateway, "GET", "/v1/banks/{code}", bank_a, bank_reader),
        Case(gateway, "PATCH", "/v1/banks/{code}", bank_a, only(422, "admin"), PROBE),
        Case(
            gateway,
            "POST",
            "/v1/banks/{code}/signing-secrets",
            f"{bank_a}/signing-secrets",
            only(422, "admin"),
            PROBE,
        ),
        Case(
            gateway,
            "POST",
            "/v1/banks/{code}/client-secret",
            f"/v1/banks/{w.bank_b}/client-secret",
            only(200, "admin"),
        ),
        Case(gateway, "GET", "/v1/staff", "/v1/staff", only(200, "admin")),
        Case(
            gateway, "PATCH", "/v1/staff/{username}", "/v1/staff/alice", only(422, "admin"), PROBE
        ),
        Case(
            gateway,
            "POST",
            "/v1/sessions/status",
            "/v1/sessions/status",
            only(422, "intake", "guarantee"),
            PROBE,
        ),
        Case(gateway, "POST", "/v1/batches", "/v1/batches", only(422, *STAFF), PROBE),
        Case(gateway, "GET", "/v1/batches", "/v1/batches", only(200, *STAFF, *BANKS)),
        Case(gateway, "GET", "/v1/batches/{batch_id}", batch, bank_reader),
        Case(
            gateway,
            "POST",
            "/v1/batches/{batch_id}/allocations",
            f"{batch}/allocations",
            only(422, *STAFF),
            PROBE,
        ),
        Case(
            gateway,
            "POST",
            "/v1/batches/{batch_id}/allocations/auto",
            f"{batch}/allocations/auto",
            only(422, *STAFF),
            PROBE,
        ),
        Case(gateway, "GET", "/v1/batches/{batch_id}/loans", f"{batch}/loans", bank_reader),
        Case(gateway, "GET", "/v1/batches/{batch_id}/risk", f"{batch}/risk", bank_reader),
        # The batch is open: each step of its approval is a conflict now.
        *(
            Case(
                gateway,
                "POST",
                f"/v1/batches/{{batch_id}}/{step}",
                f"{batch}/{step}",
                expected,
            )
            for step, expected in (
                ("submission", only(409, *STAFF)),
                ("return", only(409, *STAFF)),
                ("opening", only(409, *STAFF)),
                # Approving and reopening need the approve permission, whatever the state.
                ("approval", only(409, "approver", bureau=403, admin=403)),
                ("reopening", only(409, "approver", bureau=403, admin=403)),
            )
        ),
        Case(
            gateway,
            "POST",
            "/v1/batches/{batch_id}/closing",
            f"{batch}/closing",
            only(422, *STAFF),
            PROBE,
        ),
        Case(gateway, "GET", "/v1/deliveries", "/v1/deliveries", only(200, *STAFF)),
        Case(
            gateway,
            "POST",
            "/v1/deliveries/{delivery_id}/redelivery",
            f"/v1/deliveries/{w.delivery}/redelivery",
            only(409, *STAFF),
        ),
        # Callbacks read the raw body to check its signature: unsigned is 401 for a bank.
        *(
            Case(gateway, "POST", path, path, only(401, *BANKS), PROBE, raw=True)
            for path in ("/v1/bank/events", "/v1/bank/events/bulk")
        ),
        *(
            Case(gateway, "POST", path, path, only(422, *BANKS), PROBE)
            for path in ("/v1/bank/filings", "/v1/bank/filings/bulk")
        ),
        Case(
            gateway,
            "POST",
            "/v1/bank/reconciliations",
            "/v1/bank/reconciliations",
            only(422, *BANKS),
            PROBE,
        ),
        # The token endpoint is public; wrong client credentials are 401 for anyone.
        Case(gateway, "POST", "/oauth/token", "/oauth/token", everyone(401)),
    ]


class Callers:
    def __init__(self, desk: Desk, uscc_a: str, uscc_b: str, world: World) -> None:
        t = desk.tokens
        self.tokens: dict[str, str | None] = {
            "anonymous": None,
            "sme_a": t.sme(uscc_a),
            "sme_b": t.sme(uscc_b),
            "bureau": t.bureau("matrix-bureau"),
            "approver": t.bureau("matrix-approver", approver=True),
            "bank_a": t.bank(world.bank_a),
            "bank_b": t.bank(world.bank_b),
            "admin": t.admin(),
            "fund": t.fund("matrix-fund"),
            "intake": t.service("loan_intake"),
            "guarantee": t.service("guarantee"),
            "gateway": t.service("bank_gateway"),
        }

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        return {"Authorization": f"Bearer {token}"} if token else {}


async def send(client: httpx.AsyncClient, case: Case, headers: dict[str, str]) -> httpx.Response:
    if case.template == "/oauth/token":
        # A fresh client id each time: the sign-in limiter must not turn 401 into 429.
        form = {
            "grant_type": "client_credentials",
            "client_id": f"nobody-{uuid.uuid4().hex[:8]}",
            "client_secret": "wrong",
        }
        return await client.post(case.path, data=form, headers=headers)
    if case.body is None:
        return await client.request(case.method, case.path, headers=headers)
    if case.raw:
        return await client.request(
            case.method,
            case.path,
            content=json.dumps(case.body).encode(),
            headers={**headers, "Content-Type": "application/json"},
        )
    return await client.request(case.method, case.path, json=case.body, headers=headers)


async def test_every_route_answers_each_caller_exactly(desk: Desk) -> None:
    world, uscc_a, uscc_b = await build_world(desk)
    callers = Callers(desk, uscc_a, uscc_b, world)
    guarantee_app = desk.intake.guarantee_link.inner.app
    apps = {"loan_intake": desk.intake.app, "guarantee": guarantee_app, "bank_gateway": desk.app}
    table = cases(world)

    # Every operation of every OpenAPI document is in the table, and nothing else.
    documented = {
        (service, method.upper(), path)
        for service, app in apps.items()
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    listed = {(c.service, c.method, c.template) for c in table}
    assert documented - listed == set(), "routes nobody decided who may call"
    assert listed - documented == set(), "the table names routes that do not exist"
    for case in table:
        assert set(case.expected) == set(CALLERS)

    wrong: list[str] = []
    for service, app in apps.items():
        async with asgi_client(app, f"http://{service}") as client:
            for case in (c for c in table if c.service == service):
                for caller in CALLERS:
                    response = await send(client, case, callers.headers(caller))
                    want = case.expected[caller]
                    if response.status_code != want:
                        wrong.append(
                            f"{case.method} {case.path} as {caller}: {response.status_code}, "
                            f"expected {want} — {response.text[:160]}"
                        )
                    elif want >= 400:
                        assert response.headers["content-type"].startswith(
                            "application/problem+json"
                        ), f"{case.method} {case.path} as {caller}"
    assert not wrong, "\n".join(wrong)


LISTS: list[tuple[str, str, Callable[[World], str]]] = [
    ("loan_intake", "/v1/applications?page_size=200", lambda w: w.application),
    ("bank_gateway", "/v1/batches?limit=100", lambda w: w.batch),
    ("bank_gateway", "/v1/banks", lambda w: w.bank_a),
]


async def test_lists_show_a_tenant_only_its_own(desk: Desk) -> None:
    world, uscc_a, uscc_b = await build_world(desk)
    callers = Callers(desk, uscc_a, uscc_b, world)
    apps = {"loan_intake": desk.intake.app, "bank_gateway": desk.app}
    # Enterprise B has an application of its own, so its list is not trivially empty.
    submitted = await desk.intake.client.post(
        "/v1/applications", json=application_body(uscc_b), headers=callers.headers("sme_b")
    )
    assert submitted.status_code == 202
    # …and bank B a draft batch.
    today = shanghai_today()
    drafted = await desk.gateway.post(
        "/v1/batches",
        json={
            "bank_code": world.bank_b,
            "name": "乙银行批次",
            "quota": "10000000.00",
            "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=30)).isoformat(),
            "policy_version_id": world.policy,
        },
        headers=callers.headers("bureau"),
    )
    assert drafted.status_code == 201, drafted.text
    owner = {"loan_intake": ("sme_a", "sme_b"), "bank_gateway": ("bank_a", "bank_b")}
    for service, path, own_id in LISTS:
        async with asgi_client(apps[service], f"http://{service}") as client:
            tenant_a, tenant_b = owner[service]
            a = await client.get(path, headers=callers.headers(tenant_a))
            b = await client.get(path, headers=callers.headers(tenant_b))
            staff_view = await client.get(path, headers=callers.headers("bureau"))

        def ids(response: httpx.Response) -> set[str]:
            body = response.json()
            items = body["items"] if isinstance(body, dict) else body
            return {str(i.get("code") or i["id"]) for i in items}

        assert own_id(world) in ids(a), f"{path}: tenant A sees its own"
        assert own_id(world) in ids(staff_view), f"{path}: the bureau sees everyone's"
        assert own_id(world) not in ids(b), f"{path}: tenant B must not see A's"
        assert ids(b), f"{path}: tenant B sees its own"


def page_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every page: the routes left out of the OpenAPI document."""

    def walk(routes: list[Any]) -> list[Any]:
        found = []
        for route in routes:
            nested = getattr(route, "original_router", None)
            found.extend(walk(nested.routes) if nested is not None else [route])
        return found

    return [
        (method, route.path)
        for route in walk(app.router.routes)
        if type(route).__name__ == "APIRoute" and not route.include_in_schema
        for method in sorted(route.methods)
        if route.path.startswith(("/portal", "/console"))
    ]


# Pages anyone may open: sign-in, registration, a forgotten password, the live checks.
PUBLIC_PAGES = {
    "/portal/login",
    "/portal/register",
    "/portal/password-reset",
    "/portal/check/uscc",
    "/portal/check/size",
    "/portal/check/amount",
    "/console/login",
}


async def test_pages_open_only_with_a_session_of_their_own(desk: Desk) -> None:
    """A page answers an anonymous visitor — or one holding only an API token, which pages
    do not accept — with the way to sign in (GET) or a refused form (POST, no CSRF)."""
    bank_token = desk.tokens.header(desk.tokens.bank("srcb"))
    staff_token = staff(desk, "carol", approver=True)
    checked = 0
    for app, host in ((desk.intake.app, "intake"), (desk.app, "gateway")):
        routes = page_routes(app)
        assert routes, f"{host} has pages"
        for method, template in routes:
            path = template.replace("{action}", "approval")
            for name in (
                "application_id",
                "batch_id",
                "delivery_id",
                "policy_id",
                "loan_id",
                "document_id",
                "list_id",
                "review_id",
            ):
                path = path.replace(f"{{{name}}}", str(uuid.uuid4()))
            path = path.replace("{uscc}", "91310118MA1JL0000X").replace("{key}", "2026-Q1")
            for headers in ({}, bank_token, staff_token):
                # A browser of its own each time: no cookie from an earlier answer.
                async with asgi_client(app, f"http://{host}") as browser:
                    response = await browser.request(method, path, headers=headers)
                checked += 1
                where = f"{method} {path} with {sorted(headers) or 'nothing'}"
                login = "/portal/login" if host == "intake" else "/console/login"
                if template.rstrip("/") in PUBLIC_PAGES and method == "GET":
                    assert response.status_code in (200, 422), where
                elif response.status_code == 303:
                    assert response.headers["location"].startswith(login), where
                else:
                    # A form posted without a session nor its CSRF token.
                    assert (method, response.status_code) == ("POST", 403), where
                    assert response.json()["type"] == "/problems/csrf-failed", where
    assert checked > 60


async def test_a_misspelt_query_parameter_is_refused_not_ignored(desk: Desk) -> None:
    """``?stauts=open`` would otherwise list every batch as if it were the filter."""
    response = await desk.gateway.get("/v1/batches?stauts=open", headers=staff(desk, "bob"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert [e["field"] for e in problem["errors"]] == ["query.stauts"]
    assert "stauts" in problem["detail"]
    known = await desk.gateway.get("/v1/batches?status=open", headers=staff(desk, "bob"))
    assert known.status_code == 200
