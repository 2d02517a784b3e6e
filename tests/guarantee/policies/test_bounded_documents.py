"""Policy documents cannot stop the guarantee service (issue 14, item 6): deep expressions,
huge lists and YAML aliases are refused naming where; a checked document is not kept."""

import copy
import uuid

import httpx
import yaml

from services.guarantee.models import PolicyVersion
from services.guarantee.policies import documents
from services.guarantee.policies.default_policy import default_policy
from services.guarantee.policies.document import content_hash
from tests.guarantee.conftest import Bureau
from tests.guarantee.policies.test_versions_api import draft_from_in_force


async def test_a_deeply_nested_expression_is_refused_naming_the_rule(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    draft = await draft_from_in_force(policy_client, bureau.alice)
    document = copy.deepcopy(draft["document"])
    document["rules"][2]["when"] = "not " * 472 + "bad_credit_2y"  # was a RecursionError: 500
    document["scoring"]["factors"][0]["points"] = "(" * 40 + "5" + ")" * 40
    response = await policy_client.put(
        f"/v1/policies/{draft['id']}/document", json={"document": document}, headers=bureau.alice
    )
    assert response.status_code == 422, response.text
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["rules.2.when"]["code"] == "too_deep"
    assert "嵌套过深" in errors["rules.2.when"]["message"]
    assert errors["scoring.factors.0.points"]["code"] == "too_deep"
    checked = await policy_client.post(
        "/v1/policies/check", json={"document": document}, headers=bureau.alice
    )
    assert checked.status_code == 200
    assert {e["field"] for e in checked.json()["errors"]} == set(errors)


async def test_thousands_of_factors_are_refused_at_once(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    document = default_policy()
    # Was 14 s of an O(n²) duplicate check on the event loop (and under the body limit).
    document["scoring"]["factors"] = [
        {"code": f"f{i:05d}", "label_zh": "x", "points": "1"} for i in range(11_500)
    ]
    response = await policy_client.post(
        "/v1/policies/check", json={"document": document}, headers=bureau.alice
    )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["field"] == "scoring.factors" and error["code"] == "too_long"


async def test_yaml_aliases_are_refused(policy_client: httpx.AsyncClient, bureau: Bureau) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    response = await policy_client.post(
        "/v1/policies/check", json={"yaml": laughs}, headers=bureau.alice
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "yaml" and "别名" in error["message"] and error["line"] == 2
    plain = yaml.safe_dump(default_policy(), allow_unicode=True)
    fine = await policy_client.post(
        "/v1/policies/check", json={"yaml": plain}, headers=bureau.alice
    )
    assert fine.json()["valid"] is True


async def test_checking_keeps_nothing_and_the_compiled_versions_are_bounded(
    policy_client: httpx.AsyncClient, bureau: Bureau
) -> None:
    before = len(documents._compiled)
    for i in range(5):
        document = default_policy()
        document["description"] = f"只检查 {i}"
        checked = await policy_client.post(
            "/v1/policies/check", json={"document": document}, headers=bureau.alice
        )
        assert checked.json()["valid"] is True
    assert len(documents._compiled) == before
    for i in range(documents.COMPILED_KEPT + 8):
        document = default_policy()
        document["description"] = f"版本 {i}"
        version = PolicyVersion(
            id=uuid.uuid4(),
            name="x",
            version=i,
            document=document,
            content_hash=content_hash(document),
            created_by="test",
        )
        documents.compiled_policy(version)
    assert len(documents._compiled) == documents.COMPILED_KEPT
