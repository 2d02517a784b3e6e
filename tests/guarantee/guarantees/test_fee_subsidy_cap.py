"""A firm's fee subsidy within the policy's annual cap, over all its guarantees (the
subsidy report the bureau pays from)."""

import copy
import uuid
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.guarantee.guarantees.reports import DuePeriod, capped_per_firm
from tests.conftest import Tokens, asgi_client, make_uscc
from tests.guarantee.factories import make_request

FAR = "2040-01-01"  # the capped version applies to assessments from then only


async def capped_policy(fund: Any, tokens: Tokens, cap: str) -> None:
    alice = tokens.header(tokens.bureau("alice"))
    carol = tokens.header(tokens.bureau("carol", approver=True))
    current = (await fund.get("/v1/policies/in-force", headers=alice)).json()
    draft = (
        await fund.post(
            "/v1/policies",
            json={"from_version_id": current["id"], "note": "补贴上限"},
            headers=alice,
        )
    ).json()
    document = copy.deepcopy(draft["document"])
    document["terms"]["default"]["fee_subsidy_firm_annual_cap"] = cap
    url = f"/v1/policies/{draft['id']}"
    assert (
        await fund.put(f"{url}/document", json={"document": document}, headers=alice)
    ).is_success
    await fund.post(f"{url}/submission", json={"effective_from": FAR}, headers=alice)
    assert (await fund.post(f"{url}/approval", json={}, headers=carol)).is_success


async def test_a_firms_fee_subsidy_stops_at_its_annual_cap(
    guarantee_app: Any, tokens: Tokens
) -> None:
    """Two ¥2,000,000 guarantees of one firm, each with 5,069.45 of fee subsidy due in
    November 2022, under a policy capping a firm at 6,000 a year: 6,000 is paid, not
    10,138.90; another firm's is untouched."""
    intake = tokens.header(tokens.service("loan_intake"))
    gateway = tokens.header(tokens.service("bank_gateway"))
    bank, firm = f"cap{uuid.uuid4().hex[:6]}", make_uscc()
    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        await capped_policy(fund, tokens, "6000.00")
        for uscc in (firm, firm, make_uscc()):
            request = make_request(as_of="2040-01-05", enterprise__uscc=uscc)
            assessed = await fund.post(
                "/v1/assessments", json=request.model_dump(mode="json"), headers=intake
            )
            assert assessed.json()["terms"]["fee_subsidy_firm_annual_cap"] == "6000.00"
            filed = await fund.post(
                "/v1/guarantees",
                json={
                    "loan_id": str(uuid.uuid4()),
                    "application_id": str(request.application_id),
                    "batch_id": str(uuid.uuid4()),
                    "bank_code": bank,
                    "principal": "2000000.00",
                    "disbursed_on": "2022-11-27",
                    "maturity_on": "2023-11-27",
                },
                headers=gateway,
            )
            assert filed.status_code == 201, filed.text
            assert filed.json()["fee_subsidy"] == "5069.45"
        report = await fund.get(
            "/v1/guarantees/subsidies?month_from=2022-11&month_to=2022-11",
            headers=tokens.header(tokens.bureau()),
        )
    [row] = [r for r in report.json()["rows"] if r["bank_code"] == bank]
    assert (row["periods"], row["fee"]) == (3, "30416.67")
    assert row["fee_subsidy"] == "11069.45"  # 6,000 for the firm + 5,069.45 for the other


PERIOD = st.tuples(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    st.sampled_from(["91310118MA1JL0000X", "91310118MA1JL0001X"]),
    st.integers(0, 2_000_000),
)


@given(st.lists(PERIOD, max_size=20), st.sampled_from([None, 0, 500_000, 1_500_000]))
def test_no_firm_gets_more_than_its_cap_in_a_year(
    periods: list[tuple[date, str, int]], cap: int | None
) -> None:
    due = [
        DuePeriod(
            due=day,
            issued_at=datetime(2025, 1, 1, tzinfo=UTC),
            guarantee_id=uuid.uuid4(),
            loan_id=uuid.uuid4(),
            uscc=uscc,
            bank_code="srcb",
            fee_fen=subsidy * 2,
            subsidy_fen=subsidy,
            firm_annual_cap_fen=cap,
        )
        for day, uscc, subsidy in periods
    ]
    paid = capped_per_firm(due)
    assert all(0 <= granted <= p.subsidy_fen for p, granted in paid)
    for firm in {p.uscc for p in due}:
        for year in (2025, 2026):
            mine = [(p, g) for p, g in paid if p.uscc == firm and p.due.year == year]
            total = sum(g for _, g in mine)
            wanted = sum(p.subsidy_fen for p, _ in mine)
            assert total == (wanted if cap is None else min(wanted, cap))
