"""The bureau closes a period in the console, records the payout and downloads the 拨付清单
as CSV, Excel and PDF (Chinese font embedded: the PDF's own text reads back in Chinese),
each with its totals."""

import csv
import io
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pypdfium2
from openpyxl import load_workbook

from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in
from tests.bank_gateway.ledger.test_events import APPROVED, DISBURSED, Bank, bank_with_loans, event
from tests.bank_gateway.periods.test_periods import periods, statement

SCREENSHOTS = Path(__file__).parents[2] / "browser" / "screenshots"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def specialised_and_ordinary(desk: Desk) -> tuple[Bank, list[str]]:
    """Two firms lent 2022-11-27, each repaying December's interest; one is 专精特新 (30 %
    贴息 under the shipped policy), and its name starts like a spreadsheet formula."""
    bank, [special] = await bank_with_loans(
        desk,
        1,
        listed="specialized_new",
        enterprise__flags={"specialized_new": True},
        enterprise__name="=HYPERLINK(1)专精特新公司",
    )
    await desk.register_bank()  # another bank's webhooks must not matter
    ordinary_bank, [ordinary] = await bank_with_loans(desk, 1)
    ids = []
    for b, loan in ((bank, special), (ordinary_bank, ordinary)):
        await b.send(event("loan.approved", loan["loan_id"], **APPROVED))
        await b.send(event("loan.disbursed", loan["loan_id"], **DISBURSED))
        repaid = {"principal": "0.00", "interest": "6400.00", "paid_on": "2022-12-27"}
        await b.send(event("loan.repayment", loan["loan_id"], **repaid))
        ids.append(loan["loan_id"])
    await desk.deliver()
    return bank, ids


async def test_the_bureau_closes_pays_and_downloads_the_statement(own_desk: Desk) -> None:
    desk = own_desk
    await specialised_and_ordinary(desk)
    first = (await periods(desk))[0]
    key = first["key"]
    async with signed_in(desk, "alice") as alice, signed_in(desk, "carol") as carol:
        listing = await alice.get("/console/periods")
        assert (
            listing.status_code == 200
            and first["label"] in listing.text
            and "待关账" in listing.text
        )
        page = await alice.get(f"/console/periods/{key}")
        assert "尚未关账" in page.text and "确认关账" not in page.text  # alice may not close
        page = await carol.get(f"/console/periods/{key}")
        closed = await carol.post(
            f"/console/periods/{key}/closing",
            content=urlencode({"_csrf": csrf_of(page)}),
            headers=FORM,
        )
        assert closed.status_code == 303 and "done=" in closed.headers["location"]
        found = await statement(desk, key)
        assert found["status"] == "closed"
        totals = found["totals"]
        # December's 贴息: 30 % of the 专精特新 firm's 6,400.00 of interest.
        assert totals["interest_subsidy"] == "1920.00"

        page = await alice.get(f"/console/periods/{key}")
        assert "已关账" in page.text and "待拨付" in page.text
        assert f"¥{Decimal(totals['subsidy_total']):,}" in page.text
        wrong = await alice.post(
            f"/console/periods/{key}/payouts",
            content=urlencode(
                {"_csrf": csrf_of(page), "voucher_number": "", "paid_on": "2023-01-10"}
            ),
            headers=FORM,
        )
        assert "请填写拨付凭证号" in (await alice.get(wrong.headers["location"])).text
        paid = await alice.post(
            f"/console/periods/{key}/payouts",
            content=urlencode(
                {
                    "_csrf": csrf_of(page),
                    "voucher_number": "青财拨〔2023〕7号",
                    "paid_on": "2023-01-10",
                }
            ),
            headers=FORM,
        )
        shown = await alice.get(paid.headers["location"])
        assert "已登记拨付 2 户" in shown.text and "青财拨〔2023〕7号" in shown.text

        sheet = await alice.get(f"/console/periods/{key}?format=csv")
        assert sheet.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        firms = rows[3:6]
        assert firms[-1][0] == "合计" and firms[-1][6] == totals["subsidy_total"]
        # A name that starts like a formula stays text in Excel.
        assert any(f[0].startswith("'=HYPERLINK") for f in firms[:2])
        assert Decimal(firms[0][6]) + Decimal(firms[1][6]) == Decimal(totals["subsidy_total"])

        book = load_workbook(
            io.BytesIO((await alice.get(f"/console/periods/{key}?format=xlsx")).content)
        )
        assert book.sheetnames == ["拨付清单", "按银行", "调整"]
        last = [c.value for c in book["拨付清单"][book["拨付清单"].max_row]]
        assert last[0] == "合计" and Decimal(str(last[6])) == Decimal(totals["subsidy_total"])
        names = [book["拨付清单"].cell(row=r, column=1) for r in (2, 3)]
        assert any(c.value.startswith("'=") and c.data_type == "s" for c in names)

        pdf = await alice.get(f"/console/periods/{key}?format=pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert b"/FontFile" in pdf.content  # the Chinese font travels with the file
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "period-statement.pdf").write_bytes(pdf.content)
        document = pypdfium2.PdfDocument(pdf.content)
        text = "".join(p.get_textpage().get_text_range() for p in document)
        assert "拨付清单" in text and first["label"] in text
        assert f"{Decimal(totals['subsidy_total']):,}" in text
        assert "青财拨〔2023〕7号" in text
