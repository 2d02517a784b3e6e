"""When lists change: a firm the fund stands behind that is added to 失信被执行人, or dropped
from the 专精特新 list its guarantee was issued on, is flagged with its 在保余额 and what the
policy makes of it; a loan assessed before the change but filed after is not guaranteed."""

import uuid
from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa

from services.guarantee.models import Assessment
from tests.conftest import Tokens, make_uscc
from tests.guarantee.factories import approved_list, make_request


async def assessed(
    client: httpx.AsyncClient, tokens: Tokens, uscc: str, amount: str, **flags: bool
) -> Any:
    request = make_request(enterprise__uscc=uscc, enterprise__flags=flags, loan__amount=amount)
    answer = await client.post(
        "/v1/assessments",
        json=request.model_dump(mode="json"),
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert answer.status_code == 201 and answer.json()["decision"] == "eligible", answer.text
    return request


async def filed(client: httpx.AsyncClient, tokens: Tokens, request: Any) -> httpx.Response:
    return await client.post(
        "/v1/guarantees",
        json={
            "loan_id": str(uuid.uuid4()),
            "application_id": str(request.application_id),
            "batch_id": str(uuid.uuid4()),
            "bank_code": "srcb",
            "principal": str(request.loan.amount),
            "disbursed_on": "2026-11-27",
            "maturity_on": "2027-11-27",
        },
        headers=tokens.header(tokens.service("bank_gateway")),
    )


async def test_firms_whose_lists_changed_are_flagged_and_new_loans_refused(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    dropped, kept, debtor, waiting = (make_uscc() for _ in range(4))
    series = f"2026年第{uuid.uuid4().hex[:4]}批"
    await approved_list(guarantee_client, tokens, "specialized_new", [dropped, kept], batch=series)
    # ¥12,000,000: within 专精特新's cap of ¥30,000,000, above the ordinary ¥10,000,000.
    for uscc in (dropped, kept):
        request = await assessed(
            guarantee_client, tokens, uscc, "12000000.00", specialized_new=True
        )
        assert (await filed(guarantee_client, tokens, request)).status_code == 201
    assert (
        await filed(
            guarantee_client, tokens, await assessed(guarantee_client, tokens, debtor, "2000000.00")
        )
    ).status_code == 201
    not_yet_lent = await assessed(guarantee_client, tokens, waiting, "2000000.00")
    dropped_later = await assessed(
        guarantee_client, tokens, dropped, "12000000.00", specialized_new=True
    )

    # The series' next version, from 1 December, names only one of the two; the courts'
    # list names the debtor and the firm not yet lent to.
    await approved_list(
        guarantee_client,
        tokens,
        "specialized_new",
        [kept],
        batch=series,
        effective_from=date(2026, 12, 1),
    )
    await approved_list(guarantee_client, tokens, "dishonest_debtor", [debtor, waiting])

    bureau = tokens.header(tokens.bureau("alice"))
    page = await guarantee_client.get(
        "/v1/reference-lists/changes", params={"limit": 200}, headers=bureau
    )
    assert page.status_code == 200, page.text
    mine = {
        i["uscc"]: i for i in page.json()["items"] if i["uscc"] in {dropped, kept, debtor, waiting}
    }
    assert set(mine) == {dropped, debtor}  # kept is still listed; waiting has no guarantee
    lapsed = mine[dropped]
    assert (lapsed["change"], lapsed["kind"], lapsed["outstanding"]) == (
        "benefit_lapsed",
        "specialized_new",
        "12000000.00",
    )
    assert lapsed["source"]["batch"] == series
    assert "新申请不再享受专精特新中小企业名单的条件" in lapsed["what_follows_zh"]
    barred = mine[debtor]
    assert (barred["change"], barred["kind"], barred["outstanding"], barred["guarantees"]) == (
        "barred",
        "dishonest_debtor",
        "2000000.00",
        1,
    )
    assert "已评估通过、尚未放款的贷款不予备案" in barred["what_follows_zh"]

    # Assessed before the change, filed after: not guaranteed, and said why.
    refused = await filed(guarantee_client, tokens, not_yet_lent)
    assert refused.status_code == 422, refused.text
    assert "按生效名单重新核验" in refused.json()["detail"]
    assert (
        "失信被执行人名单" in refused.json()["detail"] or "《测试名单》" in refused.json()["detail"]
    )
    over_the_ordinary_cap = await filed(guarantee_client, tokens, dropped_later)
    assert over_the_ordinary_cap.status_code == 422
    assert "超过单户上限" in over_the_ordinary_cap.json()["detail"]


async def made_before_lists(app: Any, request: Any) -> None:
    """The assessment as one made before facts were checked against lists: no facts kept."""
    async with app.state.sessionmaker() as session, session.begin():
        assessment = (
            await session.execute(
                sa.select(Assessment).where(Assessment.application_id == request.application_id)
            )
        ).scalar_one()
        assessment.trace = {k: v for k, v in assessment.trace.items() if k != "facts"}


async def test_an_assessment_from_before_the_lists_is_rechecked_for_bars_only(
    guarantee_client: httpx.AsyncClient, guarantee_app: Any, tokens: Tokens
) -> None:
    """Assessed when the lists were not checked, filed now: a benefit no list shows is what
    the firm said then (the lists may not have been imported); a bar a list names counts."""
    benefit, debtor = make_uscc(), make_uscc()
    # Eligible on the day (a list lapsed since) — then kept as if no list had been checked.
    await approved_list(
        guarantee_client, tokens, "specialized_new", [benefit], expires_on=date(2026, 11, 30)
    )
    declared = await assessed(
        guarantee_client, tokens, benefit, "12000000.00", specialized_new=True
    )
    plain = await assessed(guarantee_client, tokens, debtor, "2000000.00")
    for request in (declared, plain):
        await made_before_lists(guarantee_app, request)
    await approved_list(guarantee_client, tokens, "dishonest_debtor", [debtor])
    assert (await filed(guarantee_client, tokens, declared)).status_code == 201
    refused = await filed(guarantee_client, tokens, plain)
    assert refused.status_code == 422 and "按生效名单重新核验" in refused.json()["detail"]
