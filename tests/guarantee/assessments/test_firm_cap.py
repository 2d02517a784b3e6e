"""单户在保余额上限: one firm's 在保余额, its other applications in flight and this one
together stay under the policy's cap (¥10 m; ¥30 m for 专精特新 / 小巨人), whatever the
order and however many applications it files."""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Tokens, make_uscc
from tests.guarantee.factories import approved_list, make_request

CAP = Decimal("10000000.00")


async def assess(
    client: httpx.AsyncClient, tokens: Tokens, firm: str, amount: str, **changes: Any
) -> dict[str, Any]:
    body = make_request(
        enterprise__uscc=firm,
        # Revenue large enough that the amount alone never weighs on the score.
        enterprise__annual_revenue="80000000.00",
        loan__amount=amount,
        **changes,
    ).model_dump(mode="json")
    response = await client.post(
        "/v1/assessments", json=body, headers=tokens.header(tokens.service("loan_intake"))
    )
    assert response.status_code == 201, response.text
    return response.json()


def cap_reason(result: dict[str, Any]) -> str | None:
    found = [
        r["message_zh"]
        for r in result["reasons"]
        if r["code"] == "firm_exposure_within_cap" and not r["passed"]
    ]
    return found[0] if found else None


async def lapse(client: httpx.AsyncClient, tokens: Tokens, *application_ids: str) -> None:
    response = await client.post(
        "/v1/assessments/lapses",
        json={"application_ids": list(application_ids)},
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert response.status_code == 200, response.text


async def test_a_firm_s_applications_in_flight_count_against_its_cap(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    firm = make_uscc()
    first = await assess(guarantee_client, tokens, firm, "8000000.00")
    assert first["decision"] == "eligible"
    second = await assess(guarantee_client, tokens, firm, "8000000.00")
    assert second["decision"] == "ineligible"
    assert cap_reason(second) == (
        "企业在保余额 0 元 + 在途申请 8000000 元 + 本次 8000000 元 = 16000000 元，"
        "超过单户在保余额上限 10000000 元"
    )
    assert (await assess(guarantee_client, tokens, firm, "2000000.00"))["decision"] == "eligible"
    # The first application withdrawn (or declined): its room returns.
    await lapse(guarantee_client, tokens, first["application_id"])
    await lapse(guarantee_client, tokens, first["application_id"])  # told twice: the same
    assert (await assess(guarantee_client, tokens, firm, "8000000.00"))["decision"] == "eligible"
    # Another firm is not affected.
    assert (await assess(guarantee_client, tokens, make_uscc(), "8000000.00"))["decision"] == (
        "eligible"
    )


async def test_specialized_firms_have_the_higher_cap(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    firm = make_uscc()
    await approved_list(guarantee_client, tokens, "specialized_new", [firm])
    flags = {"enterprise__flags": {"specialized_new": True}}
    for _ in range(3):
        result = await assess(guarantee_client, tokens, firm, "9000000.00", **flags)
        assert result["decision"] == "eligible"
    over = await assess(guarantee_client, tokens, firm, "9000000.00", **flags)
    assert over["decision"] == "ineligible"
    assert "= 36000000 元，超过单户在保余额上限 30000000 元" in (cap_reason(over) or "")


async def test_guarantees_in_force_count_by_their_outstanding(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    firm = make_uscc()
    lent = await assess(guarantee_client, tokens, firm, "6000000.00")
    loan_id = str(uuid.uuid4())
    gateway = tokens.header(tokens.service("bank_gateway"))
    filed = await guarantee_client.post(
        "/v1/guarantees",
        json={
            "loan_id": loan_id,
            "application_id": lent["application_id"],
            "batch_id": str(uuid.uuid4()),
            "bank_code": "srcb",
            "principal": "6000000.00",
            "disbursed_on": "2026-11-25",
            "maturity_on": "2027-11-25",
        },
        headers=gateway,
    )
    assert filed.status_code == 201, filed.text
    over = await assess(guarantee_client, tokens, firm, "5000000.00")
    assert over["decision"] == "ineligible"
    assert cap_reason(over) == (
        "企业在保余额 6000000 元 + 在途申请 0 元 + 本次 5000000 元 = 11000000 元，"
        "超过单户在保余额上限 10000000 元"
    )
    # Repaid down to 4,000,000: room for 6,000,000 more.
    repaid = await guarantee_client.post(
        f"/v1/guarantees/{loan_id}/outstanding",
        json={"outstanding": "4000000.00", "on": "2026-11-30"},
        headers=gateway,
    )
    assert repaid.status_code == 200, repaid.text
    assert (await assess(guarantee_client, tokens, firm, "6000000.00"))["decision"] == "eligible"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.one_of(
            st.integers(1, 60).map(lambda n: ("apply", Decimal(n) * 250_000)),
            st.integers(0, 9).map(lambda i: ("lapse", i)),
        ),
        min_size=1,
        max_size=10,
    )
)
async def test_no_order_of_applications_and_lapses_puts_a_firm_over_its_cap(
    guarantee_client: httpx.AsyncClient, tokens: Tokens, steps: list[tuple[str, Any]]
) -> None:
    """Applications of ¥250,000 to ¥15,000,000 and lapses in any order: what the fund has
    promised the firm (eligible, not lapsed) never exceeds ¥10,000,000, and an application
    is refused for the cap only when it would have gone over."""
    firm = make_uscc()
    promised: dict[str, Decimal] = {}
    for kind, value in steps:
        if kind == "lapse":
            if promised:
                application_id = sorted(promised)[value % len(promised)]
                await lapse(guarantee_client, tokens, application_id)
                del promised[application_id]
            continue
        result = await assess(guarantee_client, tokens, firm, f"{value:.2f}")
        before = sum(promised.values(), Decimal(0))
        # Alone over the cap is the amount rule's finding; with the firm's others, this one's.
        fits = before == 0 or before + value <= CAP
        assert (cap_reason(result) is None) == fits, (promised, value, result["reasons"])
        if result["decision"] != "ineligible":
            promised[result["application_id"]] = value
        assert sum(promised.values(), Decimal(0)) <= CAP


async def test_the_cap_is_checked_again_at_filing(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A loan lent though its application had lapsed: the next filing of the firm that
    would take it over the cap is refused, with the figures."""
    firm = make_uscc()
    gateway = tokens.header(tokens.service("bank_gateway"))

    async def file(application_id: str) -> httpx.Response:
        return await guarantee_client.post(
            "/v1/guarantees",
            json={
                "loan_id": str(uuid.uuid4()),
                "application_id": application_id,
                "batch_id": str(uuid.uuid4()),
                "bank_code": "srcb",
                "principal": "6000000.00",
                "disbursed_on": "2026-11-25",
                "maturity_on": "2027-11-25",
            },
            headers=gateway,
        )

    lapsed = await assess(guarantee_client, tokens, firm, "6000000.00")
    await lapse(guarantee_client, tokens, lapsed["application_id"])
    other = await assess(guarantee_client, tokens, firm, "6000000.00")
    assert other["decision"] == "eligible"
    assert (await file(lapsed["application_id"])).status_code == 201
    refused = await file(other["application_id"])
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/exposure-cap-exceeded"
    assert refused.json()["detail"] == (
        f"企业 {firm} 在保余额 6,000,000.00 元 + 本笔放款 6,000,000.00 元 = "
        "12,000,000.00 元，超过单户在保余额上限 10,000,000.00 元"
    )
    exposure = await guarantee_client.get(
        f"/v1/guarantees/exposure/{firm}", headers=tokens.header(tokens.bureau())
    )
    assert exposure.json()["outstanding"] == "6000000.00"  # the refused filing added nothing


async def test_a_preview_sees_the_firm_s_cap_and_counts_nothing(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    firm = make_uscc()
    await assess(guarantee_client, tokens, firm, "7000000.00")
    service = tokens.header(tokens.service("loan_intake"))
    body = make_request(
        enterprise__uscc=firm,
        enterprise__annual_revenue="80000000.00",
        loan__amount="4000000.00",
    ).model_dump(mode="json")
    seen = await guarantee_client.post("/v1/assessments/preview", json=body, headers=service)
    assert seen.status_code == 200, seen.text
    preview = seen.json()
    assert preview["decision"] == "ineligible"
    assert (preview["max_amount"], preview["firm_pending"]) == ("10000000.00", "7000000.00")
    assert any("超过单户在保余额上限 ¥10,000,000.00" in f for f in preview["findings_zh"])
    # Nothing was recorded: the same amount again is still only 7 m in flight, and 3 m fits.
    again = await guarantee_client.post("/v1/assessments/preview", json=body, headers=service)
    assert again.json()["firm_pending"] == "7000000.00"
    fits = await assess(guarantee_client, tokens, firm, "3000000.00")
    assert fits["decision"] != "ineligible" and cap_reason(fits) is None


async def test_two_applications_of_one_firm_assessed_at_once_never_both_fit(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Each alone fits the cap, together they do not: assessed at the same moment (on
    PostgreSQL, two connections), the firm's lock lets one see the other."""

    for _ in range(3):
        firm = make_uscc()
        other = make_uscc()
        results = await asyncio.gather(
            assess(guarantee_client, tokens, firm, "6000000.00"),
            assess(guarantee_client, tokens, other, "6000000.00"),
            assess(guarantee_client, tokens, firm, "6000000.00"),
        )
        decisions = sorted(r["decision"] for r in (results[0], results[2]))
        assert decisions == ["eligible", "ineligible"]
        assert results[1]["decision"] == "eligible"
