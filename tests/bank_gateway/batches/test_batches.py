"""Batches: drafting, allocation against the quota, four-eyes approval, who sees what."""

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from shared.auth import APPROVE_PERMISSION, Role
from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.conftest import Tokens, asgi_client, make_uscc
from tests.guarantee.factories import make_request


def bureau(tokens: Tokens, who: str, *, approver: bool = False) -> dict[str, str]:
    return tokens.header(tokens.bureau(who, approver=approver))


async def draft(desk: Desk, quota: str, *, bank: str = "srcb", **changes: Any) -> dict:
    today = shanghai_today()
    body = {
        "bank_code": bank,
        "name": "2026年第四季度批次",
        "quota": quota,
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=90)).isoformat(),
        "policy_version_id": desk.policy_version_id,
        **changes,
    }
    response = await desk.gateway.post(
        "/v1/batches", json=body, headers=bureau(desk.tokens, "alice")
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_allocation_respects_eligibility_uniqueness_and_quota(desk: Desk) -> None:
    batch = await draft(desk, "5000000.00")
    assert (batch["status"], batch["status_zh"], batch["available"]) == (
        "draft",
        "草稿",
        "5000000.00",
    )
    eligible = await desk.eligible_applications(3)  # ¥2,000,000 each
    [refused] = await desk.eligible_applications(1, enterprise__registered_district="松江区")
    url = f"/v1/batches/{batch['id']}/allocations"
    unknown = str(uuid.uuid4())
    response = await desk.gateway.post(
        url,
        json={"application_ids": [*eligible, refused, unknown]},
        headers=bureau(desk.tokens, "alice"),
    )
    assert response.status_code == 200, response.text
    outcomes = {o["application_id"]: o for o in response.json()["outcomes"]}
    assert [outcomes[i]["allocated"] for i in eligible] == [True, True, False]
    assert outcomes[eligible[2]]["code"] == "quota_exceeded"
    assert outcomes[refused]["code"] == "not_eligible"
    assert outcomes[unknown]["code"] == "not_found"
    summary = response.json()["batch"]
    assert (summary["allocated"], summary["available"], summary["loans"]) == (
        "4000000.00",
        "1000000.00",
        2,
    )

    again = await desk.gateway.post(
        url, json={"application_ids": eligible[:1]}, headers=bureau(desk.tokens, "alice")
    )
    assert again.json()["outcomes"][0]["code"] == "in_a_batch"
    other = await draft(desk, "9000000.00", bank="bosc")
    elsewhere = await desk.gateway.post(
        f"/v1/batches/{other['id']}/allocations",
        json={"application_ids": eligible[:1]},
        headers=bureau(desk.tokens, "alice"),
    )
    assert elsewhere.json()["outcomes"][0]["code"] == "in_a_batch"

    loans = await desk.gateway.get(
        f"/v1/batches/{batch['id']}/loans", headers=bureau(desk.tokens, "bob")
    )
    assert loans.json()["total"] == 2
    assert loans.json()["items"][0]["amount"] == "2000000.00"
    assert loans.json()["items"][0]["terms"]["coverage_ratio"] == "0.8000"


async def test_four_eyes_approval(desk: Desk) -> None:
    batch = await draft(desk, "10000000.00")
    base = f"/v1/batches/{batch['id']}"
    # dora: an approver without a console account (her token's permission stands; the
    # console's alice is no approver, and permissions are re-read per request).
    submitted = await desk.gateway.post(f"{base}/submission", headers=bureau(desk.tokens, "dora"))
    assert submitted.json()["status"] == "pending_approval"
    own = await desk.gateway.post(
        f"{base}/approval", headers=bureau(desk.tokens, "dora", approver=True)
    )
    assert own.status_code == 403
    assert own.json()["type"] == "/problems/four-eyes-required"
    plain = await desk.gateway.post(f"{base}/approval", headers=bureau(desk.tokens, "bob"))
    assert plain.json()["type"] == "/problems/approve-permission-required"
    approved = await desk.gateway.post(
        f"{base}/approval", headers=bureau(desk.tokens, "carol", approver=True)
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == (
        "approved",
        "bureau:carol",
    )
    twice = await desk.gateway.post(
        f"{base}/approval", headers=bureau(desk.tokens, "dan", approver=True)
    )
    assert twice.status_code == 409


async def test_a_bank_sees_only_its_own_batches(desk: Desk) -> None:
    mine = await draft(desk, "1000000.00", bank="srcb")
    theirs = await draft(desk, "1000000.00", bank="bosc")
    srcb = desk.tokens.header(desk.tokens.bank("srcb"))
    assert (await desk.gateway.get(f"/v1/batches/{mine['id']}", headers=srcb)).status_code == 200
    hidden = await desk.gateway.get(f"/v1/batches/{theirs['id']}", headers=srcb)
    assert hidden.status_code == 404
    assert hidden.json()["type"] == "/problems/batch-not-found"
    assert (
        await desk.gateway.get(f"/v1/batches/{theirs['id']}/loans", headers=srcb)
    ).status_code == 404
    listed = await desk.gateway.get("/v1/batches?bank=bosc", headers=srcb)
    assert {b["bank_code"] for b in listed.json()["items"]} == {"srcb"}
    drafting = await desk.gateway.post("/v1/batches", json={"bank_code": "srcb"}, headers=srcb)
    assert drafting.status_code == 403


async def test_bad_batches_are_refused(desk: Desk) -> None:
    today = shanghai_today()
    cases = [
        ({"quota": "0"}, "quota"),
        ({"quota": 1000.5}, "quota"),
        ({"bank_code": "nobank"}, "bank_code"),
        ({"policy_version_id": str(uuid.uuid4())}, "policy_version_id"),
        ({"valid_to": (today - timedelta(days=1)).isoformat()}, "valid_to"),
    ]
    for changes, field in cases:
        body = {
            "bank_code": "srcb",
            "name": "坏批次",
            "quota": "1000000.00",
            "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=30)).isoformat(),
            "policy_version_id": desk.policy_version_id,
            **changes,
        }
        response = await desk.gateway.post(
            "/v1/batches", json=body, headers=bureau(desk.tokens, "alice")
        )
        assert response.status_code == 422, (changes, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}


async def test_concurrent_allocations_never_exceed_the_quota_nor_share_an_application(
    desk: Desk,
) -> None:
    """On PostgreSQL the requests really race; on SQLite they queue for the one writer."""
    first = await draft(desk, "9000000.00")
    second = await draft(desk, "9000000.00", bank="bosc")
    applications = await desk.eligible_applications(12)  # ¥2,000,000 each: 4 fit per batch
    alice = bureau(desk.tokens, "alice")

    async def allocate(batch: dict, ids: list[str]) -> Any:
        return await desk.gateway.post(
            f"/v1/batches/{batch['id']}/allocations", json={"application_ids": ids}, headers=alice
        )

    calls = []
    for i in range(6):
        chosen = applications[i * 2 : i * 2 + 4] or applications[:4]
        calls.append(allocate(first if i % 2 == 0 else second, chosen))
        calls.append(allocate(second if i % 2 == 0 else first, list(reversed(chosen))))
    responses = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]

    owner: dict[str, str] = {}
    for batch in (first, second):
        state = (await desk.gateway.get(f"/v1/batches/{batch['id']}", headers=alice)).json()
        loans = (
            await desk.gateway.get(f"/v1/batches/{batch['id']}/loans?limit=200", headers=alice)
        ).json()["items"]
        assert Decimal(state["allocated"]) <= Decimal("9000000.00")
        assert state["allocated"] == f"{2_000_000 * len(loans)}.00"
        for loan in loans:
            assert loan["application_id"] not in owner
            owner[loan["application_id"]] = batch["id"]
    assert len(owner) == 8  # both batches full: 4 × ¥2 m each


async def test_auto_allocation_fills_the_quota_preferring_the_smes_chosen_bank(
    desk: Desk,
) -> None:
    code = await desk.register_bank()
    name = f"测试银行{code}"
    mine = []
    for branch in ("", "青浦支行", ""):  # "测试银行…青浦支行" names this bank too
        mine += await desk.eligible_applications(1, loan__preferred_bank=name + branch)
    await desk.eligible_applications(1, loan__preferred_bank="某某商业银行")
    first = await draft(desk, "5000000.00", bank=code)
    auto = f"/v1/batches/{first['id']}/allocations/auto"
    only_mine = {"include_no_preference": False}
    response = await desk.gateway.post(auto, json=only_mine, headers=bureau(desk.tokens, "alice"))
    assert response.status_code == 200, response.text
    result = response.json()
    # Oldest first, as long as the quota lasts: two of ¥2,000,000 fit in ¥5,000,000.
    assert [o["application_id"] for o in result["outcomes"]] == mine[:2]
    assert all(o["allocated"] for o in result["outcomes"])
    assert result["chosen"] == {"this_bank": 2}
    assert result["scanned"] >= 4
    assert (result["batch"]["allocated"], result["batch"]["available"]) == (
        "4000000.00",
        "1000000.00",
    )

    # Nothing of this bank's still fits: the third waits for the next batch.
    again = await desk.gateway.post(auto, json=only_mine, headers=bureau(desk.tokens, "alice"))
    assert (again.json()["outcomes"], again.json()["chosen"]) == ([], {"this_bank": 0})
    second = await draft(desk, "5000000.00", bank=code)
    filled = await desk.gateway.post(
        f"/v1/batches/{second['id']}/allocations/auto",
        json={**only_mine, "include_other_banks": True, "max_applications": 2},
        headers=bureau(desk.tokens, "alice"),
    )
    outcomes = filled.json()["outcomes"]
    # Already in the first batch: never chosen again. Another bank's pick comes last.
    assert outcomes[0]["application_id"] == mine[2]
    assert mine[0] not in [o["application_id"] for o in outcomes]
    assert filled.json()["chosen"]["this_bank"] == 1
    assert filled.json()["chosen"]["other_bank"] == 1
    assert all(o["allocated"] for o in outcomes)

    approved = await desk.gateway.post(
        f"/v1/batches/{first['id']}/submission", headers=bureau(desk.tokens, "alice")
    )
    assert approved.status_code == 200
    not_now = await desk.gateway.post(auto, json={}, headers=bureau(desk.tokens, "alice"))
    assert not_now.status_code == 409
    assert not_now.json()["type"] == "/problems/batch-state-conflict"
    bank = desk.tokens.header(desk.tokens.bank(code))
    assert (await desk.gateway.post(auto, json={}, headers=bank)).status_code == 403


def test_what_an_sme_wrote_names_a_bank_only_when_it_clearly_does() -> None:
    from services.bank_gateway.batches.allocation import prefers
    from services.bank_gateway.models import PartnerBank

    srcb = PartnerBank(code="srcb", name="上海农商银行")
    assert prefers("上海农商银行", srcb) == "this_bank"
    assert prefers("上海农商银行青浦支行", srcb) == "this_bank"
    assert prefers("SRCB", srcb) == "this_bank"
    assert prefers("农商银行", srcb) == "this_bank"
    assert prefers("银行", srcb) == "other_bank"
    assert prefers("上海银行", srcb) == "other_bank"
    assert prefers("  ", srcb) == prefers(None, srcb) == "no_preference"


async def test_allocation_refuses_what_would_take_a_firm_over_its_cap(
    desk: Desk, guarantee_app: Any
) -> None:
    """Since the firm's ¥4,000,000 application was assessed, ¥8,000,000 of its was lent and
    guaranteed elsewhere (an application whose lapse the fund had heard of): allocating the
    application would make 12,000,000 against the ¥10,000,000 cap — refused, with the
    figures; another firm's goes in."""
    firm = make_uscc()
    intake = desk.tokens.header(desk.tokens.service("loan_intake"))
    gateway = desk.tokens.header(desk.tokens.service("bank_gateway"))
    elsewhere = make_request(
        enterprise__uscc=firm,
        enterprise__annual_revenue="80000000.00",
        loan__amount="8000000.00",
    )
    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        assessed = await fund.post(
            "/v1/assessments", json=elsewhere.model_dump(mode="json"), headers=intake
        )
        assert assessed.json()["decision"] == "eligible"
        lapse = {"application_ids": [str(elsewhere.application_id)]}
        await fund.post("/v1/assessments/lapses", json=lapse, headers=intake)
        [mine] = await desk.eligible_applications(
            1,
            uscc=firm,
            loan__amount="4000000.00",
            enterprise__annual_revenue="80000000.00",
        )
        filed = await fund.post(
            "/v1/guarantees",
            json={
                "loan_id": str(uuid.uuid4()),
                "application_id": str(elsewhere.application_id),
                "batch_id": str(uuid.uuid4()),
                "bank_code": "other",
                "principal": "8000000.00",
                "disbursed_on": "2022-11-20",
                "maturity_on": "2023-11-20",
            },
            headers=gateway,
        )
        assert filed.status_code == 201, filed.text
    [other] = await desk.eligible_applications(1)
    batch = await draft(desk, "50000000.00")
    response = await desk.gateway.post(
        f"/v1/batches/{batch['id']}/allocations",
        json={"application_ids": [mine, other]},
        headers=bureau(desk.tokens, "alice"),
    )
    assert response.status_code == 200, response.text
    refused, allocated = response.json()["outcomes"]
    assert (refused["allocated"], refused["code"]) == (False, "exposure_cap")
    assert refused["message"] == (
        "企业在保余额 8,000,000.00 元 + 已分配未放款 0.00 元 + 本笔 4,000,000.00 元 = "
        "12,000,000.00 元，超过单户在保余额上限 10,000,000.00 元"
    )
    assert allocated["allocated"] is True


async def test_four_eyes_are_two_bureau_people_not_two_roles(desk: Desk) -> None:
    """Drafted and submitted by bureau:alice: admin:alice (even carrying the approver
    permission) is refused — an admin never approves bureau work — and so is any admin;
    drafted by admin:alice, bureau:alice the approver is still the same person."""
    issuer = desk.tokens._issuers["bank_gateway"]

    def token(role: Role, who: str) -> dict[str, str]:
        issued = issuer.issue(subject=who, role=role, permissions={APPROVE_PERMISSION})
        return desk.tokens.header(issued)

    batch = await draft(desk, "10000000.00")
    base = f"/v1/batches/{batch['id']}"
    await desk.gateway.post(f"{base}/submission", headers=bureau(desk.tokens, "alice"))
    for who in ("alice", "root"):
        refused = await desk.gateway.post(f"{base}/approval", headers=token(Role.ADMIN, who))
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"] == "/problems/approve-permission-required"
        assert "管理员账号不能审批" in refused.json()["detail"]

    drafted_by_admin = await desk.gateway.post(
        "/v1/batches",
        json={
            "bank_code": "srcb",
            "name": "管理员起草的批次",
            "quota": "1000000.00",
            "valid_from": shanghai_today().isoformat(),
            "valid_to": (shanghai_today() + timedelta(days=30)).isoformat(),
            "policy_version_id": desk.policy_version_id,
        },
        headers=token(Role.ADMIN, "dan"),
    )
    assert drafted_by_admin.status_code == 201, drafted_by_admin.text
    other = f"/v1/batches/{drafted_by_admin.json()['id']}"
    await desk.gateway.post(f"{other}/submission", headers=token(Role.ADMIN, "dan"))
    same = await desk.gateway.post(f"{other}/approval", headers=token(Role.BUREAU, "dan"))
    assert (same.status_code, same.json()["type"]) == (403, "/problems/four-eyes-required")
    fine = await desk.gateway.post(f"{other}/approval", headers=token(Role.BUREAU, "eve"))
    assert fine.status_code == 200, fine.text
