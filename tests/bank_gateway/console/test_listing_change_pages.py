"""A firm lent to, then named by the courts' 失信被执行人 list: its next loan is not
guaranteed (the bank told why), and the console flags it with its 在保余额 and what the
policy makes of it."""

from typing import Any

from tests.bank_gateway.batches.test_opening import application_status
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import signed_in
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, bank_with_loans, event
from tests.conftest import asgi_client, make_uscc
from tests.guarantee.factories import approved_list


async def test_a_firm_named_after_it_was_lent_is_flagged_and_not_lent_again(
    desk: Desk, guarantee_app: Any
) -> None:
    firm = make_uscc()
    bank, [first, second] = await bank_with_loans(desk, 2, uscc=firm)
    for loan in (first, second):
        await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    await bank.send(event("loan.disbursed", first["loan_id"], **DISBURSED))
    await desk.deliver()  # 备案: guaranteed

    async with asgi_client(guarantee_app, "http://guarantee") as fund:
        await approved_list(fund, desk.tokens, "dishonest_debtor", [firm])

    # The second loan, lent after the firm was named: not the fund's.
    await bank.send(event("loan.disbursed", second["loan_id"], **DISBURSED))
    await desk.deliver()
    [notice] = [
        n for n in desk.bank.of_type("filing.refused") if n["data"]["loan_id"] == second["loan_id"]
    ]
    assert "按生效名单重新核验" in notice["data"]["reason_zh"]
    assert "《测试名单》" in notice["data"]["reason_zh"]
    status = await application_status(desk, second["application_id"])
    assert status["status"] == "unguaranteed"

    async with signed_in(desk, "alice") as alice:
        lists = await alice.get("/console/reference-lists")
        assert "名单变动关注" in lists.text
        page = await alice.get("/console/reference-lists/changes?page=1")
        assert page.status_code == 200
        row = page.text.split(firm, 1)[1].split("</tr>", 1)[0]
        assert "列入限制名单" in row and "失信被执行人名单" in row
        assert "¥2,000,000.00" in row  # the first loan's 在保余额, not the refused one's
        assert "新申请不予担保" in row
        # The firm's own page names the list it is on.
        firm_page = await alice.get(f"/console/enterprises/{firm}")
        assert "严重失信记录：列入" in firm_page.text and "《测试名单》" in firm_page.text
