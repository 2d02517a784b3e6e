"""The subsidy report (补贴报表): fee and interest subsidies due per month and bank, on the
page and as CSV or Excel."""

import csv
import io
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from services.bank_gateway.console import repository as repo
from services.bank_gateway.console.calls import OnBehalf
from services.bank_gateway.console.pages import render_page, staff_member, to_login
from services.bank_gateway.ledger import subsidies as reports
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.exports import append_row, csv_cell
from shared.web import problem_text

report_pages = APIRouter(prefix="/console/reports", include_in_schema=False)

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
COLUMNS = [
    ("month", "月份"),
    ("bank_name", "银行"),
    ("fee", "担保费"),
    ("fee_subsidy", "担保费补贴"),
    ("repayments", "还款笔数"),
    ("interest", "利息"),
    ("interest_unsubsidised", "其中不贴息利息"),
    ("interest_subsidy", "贴息"),
    ("subsidy_total", "补贴合计"),
]


@report_pages.get("/subsidies")
async def subsidies(
    request: Request,
    session: SessionDep,
    month_from: str = Query("", pattern=f"({MONTH})|^$"),
    month_to: str = Query("", pattern=f"({MONTH})|^$"),
    format: Literal["html", "csv", "xlsx"] = "html",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    today = shanghai_today()
    month_to = month_to or today.strftime("%Y-%m")
    month_from = month_from or f"{today.year}-01"
    error = ""
    rows: list[reports.SubsidyRow] = []
    if month_to < month_from:
        error = "结束月份不能早于开始月份"
    else:
        calls = OnBehalf(request)
        try:
            fees = await calls.get(
                calls.guarantee,
                "/v1/guarantees/subsidies",
                month_from=month_from,
                month_to=month_to,
            )
            interest = await reports.interest_subsidies(
                session=session, month_from=month_from, month_to=month_to
            )
            names = {b.code: b.name for b in await repo.list_banks(session=session)}
            rows = reports.merge(fees["rows"], interest, names)
        except AppError as failure:
            error = problem_text(failure)
    name = f"补贴报表_{month_from}_{month_to}"
    totals = _totals(rows)
    if format == "csv" and not error:
        return _csv(rows, totals, name)
    if format == "xlsx" and not error:
        return _xlsx(rows, totals, name)
    return render_page(
        request,
        "subsidies.html",
        principal,
        rows=rows,
        totals=totals,
        month_from=month_from,
        month_to=month_to,
        error=error,
        status_code=400 if error else 200,
    )


def _totals(rows: list[reports.SubsidyRow]) -> dict[str, Any]:
    return {
        key: sum((getattr(r, key) for r in rows), start=0)
        for key, _ in COLUMNS
        if key not in ("month", "bank_name")
    }


def _total_row(totals: dict[str, Any]) -> list[Any]:
    """The last line of every export: what the columns add up to (as on the page)."""
    return ["合计", "", *(totals[key] for key, _ in COLUMNS[2:])]


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def _csv(rows: list[reports.SubsidyRow], totals: dict[str, Any], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow([csv_cell(getattr(row, key)) for key, _ in COLUMNS])
    writer.writerow([csv_cell(value) for value in _total_row(totals)])
    # With a BOM, so Excel opens the Chinese headers as UTF-8.
    return _download(("\ufeff" + out.getvalue()).encode(), f"{name}.csv", "text/csv")


def _xlsx(rows: list[reports.SubsidyRow], totals: dict[str, Any], name: str) -> Response:
    book = Workbook()
    sheet = book.active
    sheet.title = "补贴报表"
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Decimals are written as their exact text; Excel reads them as numbers.
        append_row(sheet, [getattr(row, key) for key, _ in COLUMNS])
    append_row(sheet, _total_row(totals))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column in ("C", "D", "F", "G", "H", "I"):
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0.00"
    for column, width in zip("ABCDEFGHI", (10, 20, 16, 16, 10, 16, 16, 16, 16), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return _download(
        buffer.getvalue(),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
