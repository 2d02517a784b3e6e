"""担保费实收 in the console: the fund's clerk finds a firm's guaranteed loan, reads its fee
schedule and records a receipt — one beyond what the firm owes is refused in words; the
bureau reads the same page without the form."""

from decimal import Decimal
from urllib.parse import urlencode

from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in
from tests.bank_gateway.ledger.test_claims import disbursed_loans, loan_of
from tests.conftest import asgi_client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_the_fund_records_a_fee_received_against_the_schedule(desk: Desk) -> None:
    _, [loan_id], batch_id = await disbursed_loans(desk, 1)  # lent 2022-11-27
    uscc = (await loan_of(desk, batch_id, loan_id))["enterprise_uscc"]
    async with signed_in(desk, "dave") as dave, signed_in(desk, "alice") as alice:
        found = await dave.get(f"/console/fees?q={uscc[-8:]}")
        assert found.status_code == 200 and f"/console/fees/{loan_id}" in found.text
        nothing = await dave.get("/console/fees?q=%25")
        assert "没有找到" in nothing.text  # the wildcard characters are text, not patterns

        page = await dave.get(f"/console/fees/{loan_id}")
        assert "收费计划" in page.text and "登记实收" in page.text
        form = {
            "_csrf": csrf_of(page),
            "period_from": "2022-11-27",
            "collected_on": "2022-12-01",
            "reference": "SK-2022-9",
        }
        too_much = await dave.post(
            f"/console/fees/{loan_id}",
            content=urlencode({**form, "amount": "999,999.00"}),
            headers=FORM,
        )
        shown = await dave.get(too_much.headers["location"])
        assert "超过该期企业应缴未收" in shown.text
        done = await dave.post(
            f"/console/fees/{loan_id}",
            content=urlencode({**form, "amount": "1,000.00"}),
            headers=FORM,
        )
        shown = await dave.get(done.headers["location"])
        assert "已登记实收 ¥1,000.00" in shown.text and "SK-2022-9" in shown.text

        unchosen = await dave.post(
            f"/console/fees/{loan_id}",
            content=urlencode({**form, "period_from": "", "amount": "1.00"}),
            headers=FORM,
        )
        assert "请选择收费期" in (await dave.get(unchosen.headers["location"])).text
        async with asgi_client(desk.guarantee_app, "http://guarantee") as fund:
            owed = (
                await fund.get(
                    f"/v1/guarantees/{loan_id}/fee-collections",
                    headers=desk.tokens.header(desk.tokens.fund("fund-dave")),
                )
            ).json()
        rest = Decimal(owed["payable"]) - Decimal(owed["collected"])
        await dave.post(
            f"/console/fees/{loan_id}",
            content=urlencode({**form, "amount": str(rest), "reference": "SK-2022-10"}),
            headers=FORM,
        )
        settled = await dave.get(f"/console/fees/{loan_id}")
        assert "已全部缴清" in settled.text and 'id="period_from"' not in settled.text

        read_only = await alice.get(f"/console/fees/{loan_id}")
        assert read_only.status_code == 200 and "SK-2022-9" in read_only.text
        assert "登记实收" not in read_only.text
