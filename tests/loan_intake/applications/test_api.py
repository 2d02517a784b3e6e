"""The path: submit → stored → assessed by the guarantee service (in process) → visible."""

import asyncio
import uuid
from typing import Any

import pytest

from tests.conftest import DROP, IntakeHarness, Tokens, application_body, make_uscc

pytestmark = pytest.mark.asyncio


async def submit(
    intake: IntakeHarness, tokens: Tokens, body: dict[str, Any], *, key: str | None = None
) -> Any:
    headers = tokens.header(tokens.sme(body["enterprise"]["uscc"]))
    if key:
        headers["Idempotency-Key"] = key
    return await intake.client.post("/v1/applications", json=body, headers=headers)


async def test_each_application_gets_the_next_register_number_kept_on_replay(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc, key = make_uscc(), uuid.uuid4().hex
    first = (await submit(intake, tokens, application_body(uscc), key=key)).json()
    second = (await submit(intake, tokens, application_body(uscc))).json()
    replayed = (await submit(intake, tokens, application_body(uscc), key=key)).json()

    year, number = first["number"].removeprefix("QP-").split("-")
    assert year == first["created_at"][:4] and len(number) == 6
    assert second["number"] == f"QP-{year}-{int(number) + 1:06d}"
    assert replayed["id"] == first["id"] and replayed["number"] == first["number"]
    seen = await intake.client.get(
        f"/v1/applications/{second['id']}", headers=tokens.header(tokens.sme(uscc))
    )
    assert seen.json()["number"] == second["number"]
    assert (
        seen.json()["status_tone"] == "info" and "担保中心正在评估" in seen.json()["next_step_zh"]
    )


async def test_submitted_application_is_accepted_then_assessed(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc()
    response = await submit(intake, tokens, application_body(uscc))

    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "assessing"
    assert response.headers["Location"] == f"/v1/applications/{accepted['id']}"
    assert [h["to_status"] for h in accepted["history"]] == ["submitted", "assessing"]
    assert accepted["enterprise"]["sme_size"] == "small"  # 工业, 80 people, ¥12 m
    assert accepted["loan"]["amount"] == "2000000.00"

    await intake.drain()
    seen = await intake.client.get(
        response.headers["Location"], headers=tokens.header(tokens.sme(uscc))
    )
    assert seen.status_code == 200
    application = seen.json()
    assert application["status"] == "eligible"
    assert application["decision"] == "eligible"
    assert 60 <= application["score"] <= 100
    # Every rule passed; the 高新技术企业 it declared is on no list in force: said, not counted.
    assert all(r["passed"] for r in application["reasons"] if not r["code"].startswith("fact."))
    [unlisted] = [r for r in application["reasons"] if r["code"] == "fact.high_tech"]
    assert "名单中未见该企业，本次按未申报评估" in unlisted["finding_zh"]
    assert {r["code"] for r in application["reasons"]} >= {
        "registered_in_district",
        "sme_class",
        "amount_within_cap",
        "term_within_cap",
        "sector_not_excluded",
    }
    terms = application["terms"]
    assert terms["coverage_ratio"] == "0.8000"
    assert terms["guaranteed_amount"] == "1600000.00"
    assert terms["annual_fee"] == "10000.00"  # 2,000,000 × 0.5 %
    assert terms["annual_fee_payable"] == "5000.00"
    history = application["history"]
    assert [h["to_status"] for h in history] == ["submitted", "assessing", "eligible"]
    assert history[-1]["actor"] == "service:guarantee"
    assert "符合条件" in history[-1]["reason"]
    assert application["policy_name"] == "青浦区批次贷 v1"


async def test_ineligible_application_names_the_rules_it_failed(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc(region="310115")
    body = application_body(
        uscc, enterprise__registered_district="浦东新区", enterprise__sector="K701"
    )
    response = await submit(intake, tokens, body)
    await intake.drain()
    application = (
        await intake.client.get(
            response.headers["Location"], headers=tokens.header(tokens.sme(uscc))
        )
    ).json()
    assert application["status"] == "ineligible"
    failed = {r["code"]: r for r in application["reasons"] if not r["passed"]}
    assert set(failed) == {"registered_in_district", "sector_not_excluded", "fact.high_tech"}
    assert "浦东新区" in failed["registered_in_district"]["message_zh"]
    assert "房地产开发" in failed["sector_not_excluded"]["message_zh"]
    assert application["terms"] is None


async def test_land_and_liabilities_reach_the_policy(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    body = application_body(
        uscc,
        enterprise__annual_revenue="90000000.00",
        enterprise__land_area_mu="10.5",
        enterprise__total_liabilities="8500000.00",
    )
    response = await submit(intake, tokens, body)
    await intake.drain()
    application = (
        await intake.client.get(
            response.headers["Location"], headers=tokens.header(tokens.sme(uscc))
        )
    ).json()
    # 60 + 5 mature + 8 for 857 万元/亩 − 10 for a 94 % debt ratio (高新 declared, on no list)
    assert application["score"] == 63
    assert application["terms"]["guarantee_fee"] == "10138.89"
    negative = application_body(make_uscc(), enterprise__total_liabilities="-1.00")
    refused = await submit(intake, tokens, negative)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "enterprise.total_liabilities"


async def test_high_leverage_is_referred_to_the_bureau(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc()
    body = application_body(
        uscc,
        enterprise__flags={},
        enterprise__annual_revenue="3000000.00",
        loan__amount="4000000.00",
    )
    response = await submit(intake, tokens, body)
    await intake.drain()
    application = (
        await intake.client.get(
            response.headers["Location"], headers=tokens.header(tokens.sme(uscc))
        )
    ).json()
    assert application["status"] == "referred"
    assert application["score"] < 60
    assert any(r["code"] == "score_below_threshold" for r in application["reasons"])
    assert application["terms"] is not None  # proposed, pending the bureau


async def test_guarantee_down_keeps_application_assessing_until_it_returns(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    intake.guarantee_link.down = True
    uscc = make_uscc()
    response = await submit(intake, tokens, application_body(uscc))
    assert response.status_code == 202

    await intake.drain(rounds=3)
    headers = tokens.header(tokens.sme(uscc))
    still = (await intake.client.get(response.headers["Location"], headers=headers)).json()
    assert still["status"] == "assessing"
    assert intake.guarantee_link.calls >= 3

    intake.guarantee_link.down = False
    await intake.drain()
    done = (await intake.client.get(response.headers["Location"], headers=headers)).json()
    assert done["status"] == "eligible"
    assert [h["to_status"] for h in done["history"]].count("eligible") == 1


async def test_redelivered_handoff_is_not_assessed_twice(
    intake: IntakeHarness, tokens: Tokens, guarantee_client: Any
) -> None:
    """A worker that crashes after the guarantee answered sends the batch again."""
    uscc = make_uscc()
    response = await submit(intake, tokens, application_body(uscc))
    application_id = response.json()["id"]
    await intake.drain()
    first = (
        await intake.client.get(
            response.headers["Location"], headers=tokens.header(tokens.sme(uscc))
        )
    ).json()

    # What the outbox sent, sent again (as after a crash before its commit).
    from services.loan_intake.models import OutboxMessage

    async with intake.app.state.sessionmaker() as session:
        from sqlmodel import select

        message = (
            await session.execute(
                select(OutboxMessage).where(OutboxMessage.aggregate_id == uuid.UUID(first["id"]))
            )
        ).scalar_one()
    again = await guarantee_client.post(
        "/v1/assessments/batch",
        json={"items": [{"request": message.payload}]},
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert again.status_code == 200
    [outcome] = again.json()["outcomes"]
    assert outcome["result"]["assessment_id"] == first["assessment_id"]
    assert outcome["application_id"] == application_id


async def test_background_worker_assesses_without_being_asked(
    intake_db: str, keys_dir: Any, guarantee_app: Any, tokens: Tokens
) -> None:
    import httpx

    from services.loan_intake.main import create_app
    from tests.conftest import asgi_client, intake_settings

    app = create_app(
        intake_settings(intake_db, keys_dir, run_outbox_worker=True, outbox_poll_seconds=0.05),
        guarantee_transport=httpx.ASGITransport(app=guarantee_app),
    )
    uscc = make_uscc()
    headers = tokens.header(tokens.sme(uscc))
    async with app.router.lifespan_context(app), asgi_client(app, "http://intake") as client:
        response = await client.post(
            "/v1/applications", json=application_body(uscc), headers=headers
        )
        for _ in range(100):
            status = (await client.get(response.headers["Location"], headers=headers)).json()[
                "status"
            ]
            if status != "assessing":
                break
            await asyncio.sleep(0.05)
    assert status == "eligible"


# --- idempotency -------------------------------------------------------------------------


async def test_same_key_and_body_returns_the_original_response(
    intake: IntakeHarness, tokens: Tokens, unique_key: Any
) -> None:
    uscc = make_uscc()
    key = unique_key()
    first = await submit(intake, tokens, application_body(uscc), key=key)
    await intake.drain()
    second = await submit(intake, tokens, application_body(uscc), key=key)

    assert second.status_code == first.status_code == 202
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    listing = await intake.client.get("/v1/applications", headers=tokens.header(tokens.sme(uscc)))
    assert listing.json()["total"] == 1


async def test_same_key_different_body_is_422_and_stores_nothing(
    intake: IntakeHarness, tokens: Tokens, unique_key: Any
) -> None:
    uscc = make_uscc()
    key = unique_key()
    await submit(intake, tokens, application_body(uscc), key=key)
    other = await submit(intake, tokens, application_body(uscc, loan__amount="999.00"), key=key)

    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    listing = await intake.client.get("/v1/applications", headers=tokens.header(tokens.sme(uscc)))
    assert listing.json()["total"] == 1


async def test_concurrent_requests_with_one_key_create_one_application(
    intake: IntakeHarness, tokens: Tokens, unique_key: Any
) -> None:
    uscc = make_uscc()
    key = unique_key()
    responses = await asyncio.gather(
        *(submit(intake, tokens, application_body(uscc), key=key) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    listing = await intake.client.get("/v1/applications", headers=tokens.header(tokens.sme(uscc)))
    assert listing.json()["total"] == 1


# --- who sees what ---------------------------------------------------------------------


async def test_another_enterprise_sees_404_not_the_application(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    owner, stranger = make_uscc(), make_uscc()
    response = await submit(intake, tokens, application_body(owner))
    location = response.headers["Location"]

    theirs = await intake.client.get(location, headers=tokens.header(tokens.sme(stranger)))
    assert theirs.status_code == 404
    assert theirs.json()["type"] == "/problems/application-not-found"
    listing = await intake.client.get(
        "/v1/applications", headers=tokens.header(tokens.sme(stranger))
    )
    assert listing.json()["total"] == 0

    bureau = await intake.client.get(location, headers=tokens.header(tokens.bureau()))
    assert bureau.status_code == 200


async def test_sme_cannot_apply_for_another_enterprise(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    response = await intake.client.post(
        "/v1/applications",
        json=application_body(make_uscc()),
        headers=tokens.header(tokens.sme(make_uscc())),
    )
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/enterprise-not-yours"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
)
async def test_without_a_valid_token_is_401(intake: IntakeHarness, headers: dict) -> None:
    response = await intake.client.post(
        "/v1/applications", json=application_body(make_uscc()), headers=headers
    )
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/unauthenticated"


async def test_bank_token_may_not_read_applications(intake: IntakeHarness, tokens: Tokens) -> None:
    response = await intake.client.get(
        "/v1/applications", headers=tokens.header(tokens.bank("srcb"))
    )
    assert response.status_code == 403


async def test_listing_paginates_newest_first(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    ids = []
    for amount in ("100000.00", "200000.00", "300000.00"):
        response = await submit(intake, tokens, application_body(uscc, loan__amount=amount))
        ids.append(response.json()["id"])
    headers = tokens.header(tokens.sme(uscc))
    page1 = (await intake.client.get("/v1/applications?page_size=2", headers=headers)).json()
    page2 = (await intake.client.get("/v1/applications?page_size=2&page=2", headers=headers)).json()
    assert page1["total"] == 3
    assert [i["id"] for i in page1["items"] + page2["items"]] == ids[::-1]


async def test_withdrawal_before_allocation(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    headers = tokens.header(tokens.sme(uscc))
    response = await submit(intake, tokens, application_body(uscc))
    await intake.drain()
    location = response.headers["Location"]
    withdrawn = await intake.client.post(
        f"{location}/withdrawal", json={"reason": "已从其他渠道获得融资"}, headers=headers
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["history"][-1]["reason"] == "已从其他渠道获得融资"
    again = await intake.client.post(
        f"{location}/withdrawal", json={"reason": "再次撤回"}, headers=headers
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/transition-not-allowed"


# --- bad input: a clear problem, nothing stored -----------------------------------------

BAD_INPUTS = [
    (
        "wrong USCC check",
        {"enterprise__uscc": "91310118MA1JL0000A"},
        "enterprise.uscc",
        "uscc_check",
    ),
    ("unknown sector", {"enterprise__sector": "Z99"}, "enterprise.sector", "sector_unknown"),
    ("ambiguous sector", {"enterprise__sector": "F"}, "enterprise.sector", "sector_ambiguous"),
    ("zero amount", {"loan__amount": "0.00"}, "loan.amount", "money_not_positive"),
    ("negative amount", {"loan__amount": "-5.00"}, "loan.amount", "money_not_positive"),
    ("three decimals", {"loan__amount": "100.005"}, "loan.amount", "money_precision"),
    ("float amount", {"loan__amount": 1000.5}, "loan.amount", "money_float"),
    ("term of 0", {"loan__term_months": 0}, "loan.term_months", "term_out_of_range"),
    ("term of 600", {"loan__term_months": 600}, "loan.term_months", "term_out_of_range"),
    ("missing field", {"enterprise__name": DROP}, "enterprise.name", "missing"),
    (
        "negative employees",
        {"enterprise__employees": -1},
        "enterprise.employees",
        "greater_than_equal",
    ),
    (
        "future founding",
        {"enterprise__established_on": "2999-01-01"},
        "enterprise.established_on",
        "date_in_future",
    ),
    ("unknown field", {"loan__rate": "0.05"}, "loan.rate", "extra_forbidden"),
]


@pytest.mark.parametrize(
    ("label", "overrides", "field", "code"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
async def test_bad_input_is_a_422_naming_the_field(
    intake: IntakeHarness, tokens: Tokens, label: str, overrides: dict, field: str, code: str
) -> None:
    uscc = make_uscc()
    body = application_body(uscc, **overrides)
    response = await intake.client.post(
        "/v1/applications", json=body, headers=tokens.header(tokens.sme(uscc))
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]]
    assert field in problem["detail"]
    await _nothing_stored(intake, tokens, uscc)


async def _nothing_stored(intake: IntakeHarness, tokens: Tokens, uscc: str) -> None:
    listing = await intake.client.get("/v1/applications", headers=tokens.header(tokens.bureau()))
    assert all(i["enterprise_uscc"] != uscc for i in listing.json()["items"])
    from services.loan_intake.applications import repository

    async with intake.app.state.sessionmaker() as session:
        assert await repository.get_enterprise(session=session, uscc=uscc) is None


async def test_malformed_json_is_400_with_position(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    response = await intake.client.post(
        "/v1/applications",
        content=b'{"enterprise": {"name": ',
        headers={**tokens.header(tokens.sme(uscc)), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/malformed-request"
    assert problem["errors"][0]["field"] == "body"
    assert "24" in problem["detail"]


async def test_wrong_content_type_is_415(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    response = await intake.client.post(
        "/v1/applications",
        content=b"enterprise=x",
        headers={
            **tokens.header(tokens.sme(uscc)),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"
    await _nothing_stored(intake, tokens, uscc)


async def test_body_over_one_megabyte_is_413(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    body = application_body(uscc, loan__purpose="很" * 400_000)
    response = await intake.client.post(
        "/v1/applications", json=body, headers=tokens.header(tokens.sme(uscc))
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    await _nothing_stored(intake, tokens, uscc)


async def test_request_id_is_returned_and_kept(intake: IntakeHarness, tokens: Tokens) -> None:
    uscc = make_uscc()
    response = await intake.client.post(
        "/v1/applications",
        json=application_body(uscc),
        headers={**tokens.header(tokens.sme(uscc)), "X-Request-ID": "trace-abc-123"},
    )
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    generated = await intake.client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) >= 16


async def test_expired_idempotency_keys_are_forgotten(
    intake_db: str, keys_dir: Any, guarantee_app: Any, tokens: Tokens, unique_key: Any
) -> None:
    import httpx

    from services.loan_intake.main import create_app
    from tests.conftest import asgi_client, intake_settings

    app = create_app(
        intake_settings(intake_db, keys_dir, idempotency_ttl_hours=0),
        guarantee_transport=httpx.ASGITransport(app=guarantee_app),
    )
    uscc, key = make_uscc(), unique_key()
    headers = {**tokens.header(tokens.sme(uscc)), "Idempotency-Key": key}
    async with app.router.lifespan_context(app), asgi_client(app, "http://intake") as client:
        first = await client.post("/v1/applications", json=application_body(uscc), headers=headers)
        await app.state.idempotency_sweeper.sweep()
        other = application_body(uscc, loan__amount="999.00")
        second = await client.post("/v1/applications", json=other, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] != second.json()["id"]


async def test_streamed_body_over_one_megabyte_is_413(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc()

    async def chunks() -> Any:
        yield b'{"enterprise": {"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}}'

    response = await intake.client.post(
        "/v1/applications",
        content=chunks(),
        headers={**tokens.header(tokens.sme(uscc)), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


async def test_the_bureau_decides_a_referred_application(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc()
    # Asking more than half its revenue, no priority flags: the policy refers it.
    body = application_body(uscc, loan__amount="7000000.00", enterprise__flags={})
    created = await intake.client.post(
        "/v1/applications", json=body, headers=tokens.header(tokens.sme(uscc))
    )
    await intake.drain()
    url = created.headers["Location"]
    referred = await intake.client.get(url, headers=tokens.header(tokens.sme(uscc)))
    assert referred.json()["status"] == "referred"  # score 50: between 30 and 60
    review = {"decision": "eligible", "note": "经核实，订单充足，同意纳入批次"}
    sme = await intake.client.post(
        f"{url}/review", json=review, headers=tokens.header(tokens.sme(uscc))
    )
    assert sme.status_code == 403
    decided = await intake.client.post(
        f"{url}/review", json=review, headers=tokens.header(tokens.bureau("alice"))
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "eligible"
    last = decided.json()["history"][-1]
    assert (last["from_status"], last["actor"]) == ("referred", "bureau:alice")
    assert "订单充足" in last["reason"]
    again = await intake.client.post(
        f"{url}/review", json=review, headers=tokens.header(tokens.bureau("alice"))
    )
    assert again.json()["type"] == "/problems/transition-not-allowed"


async def test_returned_for_more_the_firm_answers_and_the_reviewer_decides_again(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    uscc = make_uscc()
    sme, alice = tokens.header(tokens.sme(uscc)), tokens.header(tokens.bureau("alice"))
    body = application_body(uscc, loan__amount="7000000.00", enterprise__flags={})
    created = await intake.client.post("/v1/applications", json=body, headers=sme)
    await intake.drain()
    url = created.headers["Location"]
    early = await intake.client.post(f"{url}/supplement", json={"note": "补充"}, headers=sme)
    assert early.json()["type"] == "/problems/transition-not-allowed"
    ask = {"decision": "returned", "note": "请补充近两年负债明细和主要客户订单"}
    returned = await intake.client.post(f"{url}/review", json=ask, headers=alice)
    assert returned.json()["status"] == "returned"
    assert "退回补充材料" in returned.json()["history"][-1]["reason"]
    assert "补充材料" in returned.json()["next_step_zh"]
    stranger = tokens.header(tokens.sme(make_uscc()))
    answer = {"note": "负债主要为设备融资租赁 300 万元，订单见附表"}
    foreign = await intake.client.post(f"{url}/supplement", json=answer, headers=stranger)
    assert foreign.status_code == 404
    answered = await intake.client.post(f"{url}/supplement", json=answer, headers=sme)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "referred"
    assert answered.json()["history"][-1]["reason"] == f"企业已补充材料：{answer['note']}"
    decided = await intake.client.post(
        f"{url}/review", json={"decision": "eligible", "note": "补充材料核实无误"}, headers=alice
    )
    assert decided.json()["status"] == "eligible"


async def test_a_withdrawn_application_gives_its_firm_s_room_back(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    """The firm's cap counts its applications in flight (at the guarantee service); one
    withdrawn is told there through the outbox, and the room returns."""
    uscc = make_uscc()
    headers = tokens.header(tokens.sme(uscc))
    big = {"loan__amount": "8000000.00", "enterprise__annual_revenue": "80000000.00"}

    async def status_of(response: Any) -> Any:
        await intake.drain()
        found = await intake.client.get(response.headers["Location"], headers=headers)
        return found.json()

    first = await submit(intake, tokens, application_body(uscc, **big))
    first_seen = await status_of(first)
    assert first_seen["status"] == "eligible", first_seen["history"][-1]
    second = await status_of(await submit(intake, tokens, application_body(uscc, **big)))
    assert second["status"] == "ineligible"
    assert "在途申请 ¥8,000,000.00" in second["history"][-1]["reason"]
    withdrawn = await intake.client.post(
        f"{first.headers['Location']}/withdrawal", json={"reason": "改由他行融资"}, headers=headers
    )
    assert withdrawn.status_code == 200
    third = await submit(intake, tokens, application_body(uscc, **big))
    assert (await status_of(third))["status"] == "eligible"
