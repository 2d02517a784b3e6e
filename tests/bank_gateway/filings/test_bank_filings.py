"""见贷即保: a bank files a loan it approved and lent itself, for a firm that never used the
portal; intake records and the fund assesses it; it is booked and guaranteed, or refused
with the findings."""

from decimal import Decimal
from typing import Any

from tests.bank_gateway.batches.test_opening import application_status, staff
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import bank_with_loans
from tests.conftest import application_body, asgi_client, make_uscc


def filing(batch_id: str, uscc: str, reference: str, **loan: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "batch_id": batch_id,
        "enterprise": application_body(uscc)["enterprise"],
        "loan": {
            "amount": "3000000.00",
            "term_months": 12,
            "purpose": "补充流动资金",
            "annual_interest_rate": "0.0385",
            "approved_on": "2022-11-20",
            "disbursed_on": "2022-11-21",
            "maturity_on": "2023-11-21",
            **loan,
        },
    }


async def batch_of(desk: Desk, batch_id: str) -> dict[str, Any]:
    response = await desk.gateway.get(f"/v1/batches/{batch_id}", headers=staff(desk, "bob"))
    return response.json()


async def test_a_bank_files_its_own_loan_and_the_fund_guarantees_it(
    desk: Desk, guarantee_app: Any
) -> None:
    bank, _ = await bank_with_loans(desk, 1)
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    before = await batch_of(desk, batch_id)
    firm = make_uscc()
    body = filing(batch_id, firm, "SRCB-2022-0001")

    filed = await bank.send(body, path="/v1/bank/filings")
    assert filed.status_code == 201, filed.text
    accepted = filed.json()
    assert (accepted["loan_state"], accepted["decision"]) == ("disbursed", "eligible")
    assert accepted["terms"]["guaranteed_amount"] == "2400000.00"
    again = await bank.send(body, path="/v1/bank/filings")
    assert again.status_code == 200 and again.json()["loan_id"] == accepted["loan_id"]
    await desk.deliver()

    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        issued = await guarantee.get(
            f"/v1/guarantees/{accepted['loan_id']}",
            headers=desk.tokens.header(desk.tokens.bureau()),
        )
    assert issued.status_code == 200, issued.text
    assert (issued.json()["principal"], issued.json()["enterprise_uscc"]) == ("3000000.00", firm)
    after = await batch_of(desk, batch_id)
    assert Decimal(after["allocated"]) - Decimal(before["allocated"]) == Decimal("3000000.00")
    # The firm never used the portal: intake holds it now, with the bank's story.
    status = await application_status(desk, accepted["application_id"])
    assert status["status"] == "disbursed"
    assert status["enterprise"]["uscc"] == firm
    assert status["history"][0]["reason"].startswith(f"合作银行（测试银行{bank.code}）已审批放款")


async def test_a_filing_the_fund_finds_ineligible_books_nothing(desk: Desk) -> None:
    bank, _ = await bank_with_loans(desk, 1)
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    before = await batch_of(desk, batch_id)
    body = filing(batch_id, make_uscc(), "SRCB-2022-0002")
    body["enterprise"]["registered_district"] = "松江区"

    refused = await bank.send(body, path="/v1/bank/filings")
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/filing-ineligible"
    assert problem["detail"].startswith("担保评估结论：不符合条件。原因：")
    assert "企业注册地为松江区，不在青浦区" in problem["detail"]
    assert (await batch_of(desk, batch_id))["allocated"] == before["allocated"]

    # Outside the batch's window, or a maturity past the term: refused before anything.
    early = filing(batch_id, make_uscc(), "SRCB-2021-0003", disbursed_on="2021-12-01")
    answer = await bank.send(early, path="/v1/bank/filings")
    assert answer.status_code == 409
    assert "不在批次有效期" in answer.json()["detail"]
    late = filing(batch_id, make_uscc(), "SRCB-2022-0004", maturity_on="2099-12-31")
    answer = await bank.send(late, path="/v1/bank/filings")
    assert (answer.status_code, answer.json()["type"]) == (409, "/problems/filing-not-accepted")
    assert "到期日 2099-12-31" in answer.json()["detail"]
    assert (await batch_of(desk, batch_id))["allocated"] == before["allocated"]
    unsigned = await desk.gateway.post(
        "/v1/bank/filings", json=body, headers={"Authorization": f"Bearer {bank.token}"}
    )
    assert unsigned.status_code == 401


async def test_filings_in_bulk_each_on_its_own(desk: Desk) -> None:
    bank, _ = await bank_with_loans(desk, 1)
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    good = filing(batch_id, make_uscc(), "SRCB-BULK-1")
    outside = filing(batch_id, make_uscc(), "SRCB-BULK-2")
    outside["enterprise"]["registered_district"] = "松江区"
    other = filing(batch_id, make_uscc(), "SRCB-BULK-3", amount="1000000.00")
    answer = await bank.send({"filings": [good, outside, other]}, path="/v1/bank/filings/bulk")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [r["status"] for r in result["results"]] == ["accepted", "refused", "accepted"]
    assert result["results"][1]["problem"]["type"] == "/problems/filing-ineligible"
    assert (result["accepted"], result["refused"]) == (2, 1)
    again = await bank.send({"filings": [good]}, path="/v1/bank/filings/bulk")
    assert again.json()["results"][0]["status"] == "repeat"
    booked = await desk.gateway.get(
        f"/v1/batches/{batch_id}/loans?limit=200", headers=staff(desk, "bob")
    )
    assert sum(loan["state"] == "disbursed" for loan in booked.json()["items"]) == 2


async def test_a_document_nested_too_deeply_is_bad_input(desk: Desk) -> None:
    """A signed body of 100,000 nested lists, to a callback and to a filing: 400, not 500."""
    bank, _ = await bank_with_loans(desk, 1)
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/v1/bank/events", "/v1/bank/events/bulk", "/v1/bank/filings"):
        answer = await bank.send_raw(deep, path=path)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["type"] == "/problems/malformed-request"


def credit_check(result: str, checked_on: str = "2022-11-15") -> dict[str, Any]:
    return {
        "check": "credit_report",
        "result": result,
        "checked_on": checked_on,
        "checked_by": "信贷员 周敏",
        "reference": "ZX-2022-1115-07",
    }


async def test_the_banks_own_checks_are_kept_as_attested_facts(
    desk: Desk, guarantee_app: Any
) -> None:
    """The bank pulled the firm's credit report before lending: a clear one is kept in the
    assessment's trace (who, when, which report) and shown; an adverse one refuses the
    filing though the firm declared nothing; a stale one is refused as a claim."""
    bank, _ = await bank_with_loans(desk, 1)
    batch_id = desk.bank.of_type("batch.opened")[-1]["data"]["batch_id"]
    clear = {**filing(batch_id, make_uscc(), "SRCB-CHK-1"), "checks": [credit_check("clear")]}
    filed = await bank.send(clear, path="/v1/bank/filings")
    assert filed.status_code == 201, filed.text
    [shown] = [r for r in filed.json()["reasons"] if r["code"] == "fact.bad_credit_2y"]
    assert shown["passed"]
    assert shown["message_zh"].startswith(
        "近两年企业、法定代表人或实际控制人有严重失信记录："
        f"经合作银行（{bank.code}）信贷员 周敏于 2022-11-15 "
        "查询企业征信报告（编号 ZX-2022-1115-07）"
    )
    async with asgi_client(guarantee_app, "http://guarantee") as guarantee:
        application = await application_status(desk, filed.json()["application_id"])
        kept = await guarantee.get(
            f"/v1/assessments/{application['assessment_id']}",
            headers=desk.tokens.header(desk.tokens.bureau()),
        )
        [fact] = [f for f in kept.json()["trace"]["facts"] if f["flag"] == "bad_credit_2y"]
        assert fact["standing"] == "attested"
        assert fact["attested"]["checked_by"] == "信贷员 周敏"
        assert fact["attested"]["bank_code"] == bank.code
        replay = await guarantee.get(
            f"/v1/assessments/{application['assessment_id']}/replay",
            headers=desk.tokens.header(desk.tokens.bureau()),
        )
        assert replay.json()["identical"] is True, replay.text

    adverse = {**filing(batch_id, make_uscc(), "SRCB-CHK-2"), "checks": [credit_check("adverse")]}
    refused = await bank.send(adverse, path="/v1/bank/filings")
    assert refused.status_code == 422, refused.text
    assert "发现企业近两年企业、法定代表人或实际控制人有严重失信记录" in refused.json()["detail"]

    stale = {
        **filing(batch_id, make_uscc(), "SRCB-CHK-3"),
        "checks": [credit_check("clear", checked_on="2022-06-01")],
    }
    old = await bank.send(stale, path="/v1/bank/filings")
    assert old.status_code == 422
    assert "企业征信报告的查询日 2022-06-01 须在批准日 2022-11-20 之前 90 天内" in old.text
