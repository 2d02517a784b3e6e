"""Policy versions over the API: draft, edit, check, submit, four-eyes approval, diff, import."""

import asyncio
import copy
from datetime import timedelta
from typing import Any

import httpx
import yaml

from shared.auth import APPROVE_PERMISSION, Role
from shared.clock import shanghai_today
from tests.conftest import Tokens
from tests.guarantee.conftest import Bureau


async def in_force(client: httpx.AsyncClient, headers: dict[str, str], on: Any = None) -> Any:
    query = f"?on={on.isoformat()}" if on else ""
    response = await client.get(f"/v1/policies/in-force{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def draft_from_in_force(client: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    current = await in_force(client, headers)
    response = await client.post(
        "/v1/policies", json={"from_version_id": current["id"], "note": "测试"}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v1/policies/{response.json()['id']}"
    return response.json()


async def test_draft_edit_submit_and_four_eyes_approval(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    client, today = policy_client, shanghai_today()
    base = await in_force(client, bureau.alice)
    draft = await draft_from_in_force(client, bureau.alice)
    assert draft["status"] == "draft"
    assert draft["based_on_id"] == base["id"]
    assert draft["version"] > base["version"]
    assert draft["in_force"] is False

    document = copy.deepcopy(draft["document"])
    document["terms"]["default"]["max_amount"] = "8000000.00"
    document["rules"].append(
        {
            "code": "no_tiny_loans",
            "when": "amount >= 100000",
            "message_zh": "申请金额须不低于 10 万元",
            "message_en": "at least 100,000",
        }
    )
    edited = await client.put(
        f"/v1/policies/{draft['id']}/document",
        json={"document": document, "note": "上限降至 800 万"},
        headers=bureau.alice,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["content_hash"] != draft["content_hash"]

    diff = await client.get(f"/v1/policies/{draft['id']}/diff", headers=bureau.bob)
    assert diff.status_code == 200
    changes = {(c["path"], c["change"]) for c in diff.json()["changes"]}
    assert changes == {
        ("terms.default.max_amount", "changed"),
        ("rules[no_tiny_loans]", "added"),
    }
    amount = next(c for c in diff.json()["changes"] if c["change"] == "changed")
    assert (amount["before"], amount["after"]) == ("10000000.00", "8000000.00")

    submitted = await client.post(
        f"/v1/policies/{draft['id']}/submission",
        json={"effective_from": today.isoformat()},
        headers=bureau.alice,
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "pending_approval"
    assert submitted.json()["submitted_by"] == "bureau:dora"

    frozen = await client.put(
        f"/v1/policies/{draft['id']}/document", json={"document": document}, headers=bureau.alice
    )
    assert frozen.status_code == 409
    assert frozen.json()["type"] == "/problems/policy-not-editable"

    own = await client.post(f"/v1/policies/{draft['id']}/approval", json={}, headers=bureau.alice)
    assert own.status_code == 403
    assert own.json()["type"] == "/problems/four-eyes-required"
    unentitled = await client.post(
        f"/v1/policies/{draft['id']}/approval", json={}, headers=bureau.bob
    )
    assert unentitled.status_code == 403
    assert unentitled.json()["type"] == "/problems/approve-permission-required"

    approved = await client.post(
        f"/v1/policies/{draft['id']}/approval", json={"note": "同意"}, headers=bureau.carol
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "bureau:carol"
    assert approved.json()["in_force"] is True
    now = await in_force(client, bureau.bob)
    assert now["id"] == draft["id"]
    previous = (await client.get(f"/v1/policies/{base['id']}", headers=bureau.bob)).json()
    assert previous["effective_to"] == today.isoformat()
    assert previous["in_force"] is False

    again = await client.post(f"/v1/policies/{draft['id']}/approval", json={}, headers=bureau.carol)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/policy-state-conflict"

    audit = await client.get(f"/v1/audit?entity_id={draft['id']}", headers=bureau.bob)
    assert audit.status_code == 200
    trail = [(e["action"], e["actor"]) for e in reversed(audit.json()["items"])]
    assert trail == [
        ("policy.drafted", "bureau:dora"),
        ("policy.edited", "bureau:dora"),
        ("policy.submitted", "bureau:dora"),
        ("policy.approved", "bureau:carol"),
    ]
    edit = audit.json()["items"][2]
    assert {c["path"] for c in edit["detail"]["changes"]} == {
        "terms.default.max_amount",
        "rules[no_tiny_loans]",
    }


async def test_a_version_scheduled_for_later_takes_over_on_its_date(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    client, today = policy_client, shanghai_today()
    later = today + timedelta(days=30)
    current = await in_force(client, bureau.alice)
    draft = await draft_from_in_force(client, bureau.alice)
    await client.post(
        f"/v1/policies/{draft['id']}/submission",
        json={"effective_from": later.isoformat()},
        headers=bureau.alice,
    )
    approved = await client.post(
        f"/v1/policies/{draft['id']}/approval", json={}, headers=bureau.carol
    )
    assert approved.status_code == 200
    assert approved.json()["in_force"] is False
    assert (await in_force(client, bureau.bob))["id"] == current["id"]
    assert (await in_force(client, bureau.bob, later - timedelta(days=1)))["id"] == current["id"]
    assert (await in_force(client, bureau.bob, later))["id"] == draft["id"]
    current_now = (await client.get(f"/v1/policies/{current['id']}", headers=bureau.bob)).json()
    assert current_now["effective_to"] == later.isoformat()


async def test_effective_date_in_the_past_is_refused(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    draft = await draft_from_in_force(policy_client, bureau.alice)
    yesterday = shanghai_today() - timedelta(days=1)
    response = await policy_client.post(
        f"/v1/policies/{draft['id']}/submission",
        json={"effective_from": yesterday.isoformat()},
        headers=bureau.alice,
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/effective-date-invalid"
    assert response.json()["errors"][0]["field"] == "effective_from"
    unchanged = await policy_client.get(f"/v1/policies/{draft['id']}", headers=bureau.alice)
    assert unchanged.json()["status"] == "draft"


async def test_rejection_needs_a_reason_and_is_final(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    draft = await draft_from_in_force(policy_client, bureau.alice)
    url = f"/v1/policies/{draft['id']}"
    await policy_client.post(
        f"{url}/submission",
        json={"effective_from": shanghai_today().isoformat()},
        headers=bureau.alice,
    )
    silent = await policy_client.post(f"{url}/rejection", json={}, headers=bureau.carol)
    assert silent.status_code == 422
    rejected = await policy_client.post(
        f"{url}/rejection", json={"note": "补贴比例需再议"}, headers=bureau.carol
    )
    assert rejected.status_code == 200
    assert rejected.json()["status_zh"] == "已退回"
    late = await policy_client.post(f"{url}/approval", json={}, headers=bureau.carol)
    assert late.status_code == 409


async def test_broken_expressions_are_refused_and_nothing_is_saved(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    draft = await draft_from_in_force(policy_client, bureau.alice)
    document = copy.deepcopy(draft["document"])
    document["rules"][0]["when"] = "registerd_district == '青浦区'"
    document["rules"][7]["when"] = "amount <= '10000000'"
    document["rules"][8]["when"] = "term_months <= 36 and"
    document["scoring"]["factors"][0]["points"] = "amount / annual_revenue > 1 ? -30 : 0"
    document["scoring"]["factors"][1]["points"] = "output_per_mu > 500 ? 5 : 0"
    document["scoring"]["factors"][2]["points"] = "purpose =~ '(a+)+$' ? 5 : 0"
    response = await policy_client.put(
        f"/v1/policies/{draft['id']}/document", json={"document": document}, headers=bureau.alice
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/policy-invalid"
    errors = {e["field"]: e for e in problem["errors"]}
    assert {field: e["code"] for field, e in errors.items()} == {
        "rules.0.when": "unknown_name",
        "rules.7.when": "type_mismatch",
        "rules.8.when": "syntax_error",
        "scoring.factors.0.points": "division_by_zero",
        "scoring.factors.1.points": "null_unsafe",
        "scoring.factors.2.points": "regex_forbidden",
    }
    assert "registered_district" in errors["rules.0.when"]["message"]
    assert errors["rules.8.when"]["column"] == len("term_months <= 36 and") + 1

    stored = await policy_client.get(f"/v1/policies/{draft['id']}", headers=bureau.alice)
    assert stored.json()["content_hash"] == draft["content_hash"]
    assert stored.json()["document"] == draft["document"]


async def test_structural_mistakes_are_field_errors(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    draft = await draft_from_in_force(policy_client, bureau.alice)
    document = copy.deepcopy(draft["document"])
    document["terms"]["default"]["coverage_ratio"] = "0.9000"  # the bank must keep 20 %
    document["terms"]["default"]["annual_fee_rate"] = 0.005  # a float near money
    response = await policy_client.put(
        f"/v1/policies/{draft['id']}/document", json={"document": document}, headers=bureau.alice
    )
    assert response.status_code == 422
    fields = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert fields == {
        "terms.default.coverage_ratio": "coverage_above_80_percent",
        "terms.default.annual_fee_rate": "rate_type",
    }
    coverage = response.json()["errors"][0]
    assert coverage["message"] == "担保基金分担比例不得超过 80%（银行至少承担 20%）"

    document = copy.deepcopy(draft["document"])
    document["rules"][1]["code"] = document["rules"][0]["code"]
    duplicate = await policy_client.put(
        f"/v1/policies/{draft['id']}/document", json={"document": document}, headers=bureau.alice
    )
    assert duplicate.status_code == 422
    assert "duplicate code registered_in_district" in duplicate.json()["errors"][0]["message_en"]


async def test_yaml_export_then_import_gives_the_same_document(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    current = await in_force(policy_client, bureau.alice)
    exported = await policy_client.get(
        f"/v1/policies/{current['id']}/export?format=yaml", headers=bureau.alice
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(exported.text)["name"] == "青浦区批次贷"
    imported = await policy_client.post(
        "/v1/policies", json={"yaml": exported.text, "note": "导入"}, headers=bureau.alice
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["content_hash"] == current["content_hash"]
    as_json = await policy_client.get(
        f"/v1/policies/{current['id']}/export?format=json", headers=bureau.alice
    )
    assert as_json.json() == current["document"]

    broken = await policy_client.post(
        "/v1/policies", json={"yaml": "name: x\nrules: [\n  - a"}, headers=bureau.alice
    )
    assert broken.status_code == 422
    error = broken.json()["errors"][0]
    assert error["field"] == "yaml" and error["code"] == "yaml_syntax"
    assert error["line"] == 3


async def test_check_reports_without_saving(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    current = await in_force(policy_client, bureau.alice)
    before = await policy_client.get("/v1/policies", headers=bureau.alice)
    document = copy.deepcopy(current["document"])
    document["scoring"]["factors"][0]["points"] = "little_giant ? 15 : 'x'"
    checked = await policy_client.post(
        "/v1/policies/check", json={"document": document}, headers=bureau.alice
    )
    assert checked.status_code == 200
    assert checked.json()["valid"] is False
    assert checked.json()["errors"][0]["field"] == "scoring.factors.0.points"
    fine = await policy_client.post(
        "/v1/policies/check", json={"document": current["document"]}, headers=bureau.alice
    )
    assert fine.json() == {"valid": True, "content_hash": current["content_hash"], "errors": []}
    after = await policy_client.get("/v1/policies", headers=bureau.alice)
    assert after.json()["total"] == before.json()["total"]


async def test_only_bureau_staff_change_policies(
    policy_client: httpx.AsyncClient, tokens: Tokens, bureau: Bureau
) -> None:
    current = await in_force(policy_client, bureau.alice)
    body = {"from_version_id": current["id"]}
    for token in (
        tokens.sme("91310118MA1JL0000N"),
        tokens.bank("srcb"),
        tokens.service("loan_intake"),
    ):
        response = await policy_client.post("/v1/policies", json=body, headers=tokens.header(token))
        assert response.status_code == 403
    anonymous = await policy_client.post("/v1/policies", json=body)
    assert anonymous.status_code == 401
    listing = await policy_client.get("/v1/policies", headers=tokens.header(tokens.bank("srcb")))
    assert listing.status_code == 403


async def test_concurrent_drafts_get_distinct_version_numbers(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    current = await in_force(policy_client, bureau.alice)
    responses = await asyncio.gather(
        *(
            policy_client.post(
                "/v1/policies", json={"from_version_id": current["id"]}, headers=bureau.alice
            )
            for _ in range(6)
        )
    )
    assert [r.status_code for r in responses] == [201] * 6
    versions = [r.json()["version"] for r in responses]
    assert len(set(versions)) == 6


async def test_four_eyes_by_person_for_policies(
    policy_client: httpx.AsyncClient, bureau: Bureau, tokens: Tokens
) -> None:
    """bureau:dora drafts and submits: admin:dora with the approver permission may not
    approve it (an admin never approves bureau work), nor may bureau:dora as an approver."""
    issuer = tokens._issuers["bank_gateway"]
    draft = await draft_from_in_force(policy_client, bureau.alice)
    url = f"/v1/policies/{draft['id']}"
    later = (shanghai_today() + timedelta(days=400)).isoformat()
    submitted = await policy_client.post(
        f"{url}/submission", json={"effective_from": later}, headers=bureau.alice
    )
    assert submitted.status_code == 200, submitted.text
    for role, expected in (
        (Role.ADMIN, "/problems/approve-permission-required"),
        (Role.BUREAU, "/problems/four-eyes-required"),
    ):
        alice = issuer.issue(subject="dora", role=role, permissions={APPROVE_PERMISSION})
        refused = await policy_client.post(f"{url}/approval", json={}, headers=tokens.header(alice))
        assert (refused.status_code, refused.json()["type"]) == (403, expected)
    declined = await policy_client.post(
        f"{url}/rejection", json={"note": "测试结束"}, headers=bureau.carol
    )
    assert declined.status_code == 200, declined.text
