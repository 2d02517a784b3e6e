"""A period's statement as files the bureau files and pays from: CSV (UTF-8 with BOM, for
Excel), Excel (拨付清单, 按银行, 调整 sheets) and PDF (Chinese font embedded), each with its
totals. Text that a spreadsheet would read as a formula is neutralised (shared/exports)."""

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from services.bank_gateway.periods.schemas import Statement
from shared.exports import append_row, csv_cell
from shared.pdf import chinese_pdf, heading_style

if TYPE_CHECKING:
    from fpdf import FPDF

# The 拨付清单's columns: (field, heading).
FIRM_COLUMNS = [
    ("enterprise_name", "企业名称"),
    ("uscc", "统一社会信用代码"),
    ("banks", "贷款银行"),
    ("fee", "担保费"),
    ("fee_subsidy", "担保费补贴"),
    ("interest_subsidy", "贴息"),
    ("subsidy_total", "应拨补贴合计"),
    ("fee_collected", "企业已缴担保费"),
    ("compensation_paid", "代偿支付"),
    ("recovered", "追偿回收"),
    ("payout", "拨付情况"),
]
BANK_COLUMNS = [
    ("bank_name", "银行"),
    ("fee", "担保费"),
    ("fee_subsidy", "担保费补贴"),
    ("interest_subsidy", "贴息"),
    ("subsidy_total", "补贴合计"),
    ("fee_collected", "企业已缴担保费"),
    ("compensation_paid", "代偿支付"),
    ("recovered", "追偿回收"),
    ("recovery_to_fund", "返还担保基金"),
]


def _cell(row: Any, field: str) -> Any:
    value = getattr(row, field, "")
    if field == "banks":
        return "、".join(value)
    if field == "payout":
        if value is None:
            return "待拨付" if row.subsidy_total > 0 else "—"
        return f"已拨付 {value.paid_on} 凭证 {value.voucher_number}"
    return value


def _totals_row(statement: Statement, columns: list[tuple[str, str]]) -> list[Any]:
    return ["合计", *(getattr(statement.totals, f, "") for f, _ in columns[1:])]


def firm_rows(statement: Statement) -> list[list[Any]]:
    rows = [[_cell(f, k) for k, _ in FIRM_COLUMNS] for f in statement.enterprises]
    total = _totals_row(statement, FIRM_COLUMNS)
    total[1] = total[2] = total[-1] = ""
    return [*rows, total]


def bank_rows(statement: Statement) -> list[list[Any]]:
    rows = [[_cell(b, k) for k, _ in BANK_COLUMNS] for b in statement.banks]
    return [*rows, _totals_row(statement, BANK_COLUMNS)]


def adjustment_rows(statement: Statement) -> list[list[Any]]:
    return [
        [a.corrects_label, a.enterprise_name, a.uscc, a.kind_zh, a.amount]
        for a in statement.adjustments
    ]


def _name(statement: Statement) -> str:
    return f"{statement.label}对账单{'' if statement.status == 'closed' else '（未关账预览）'}"


def download(statement: Statement, kind: Literal["csv", "xlsx", "pdf"]) -> Response:
    name = _name(statement)
    if kind == "csv":
        content, media = _csv(statement), "text/csv"
    elif kind == "xlsx":
        content = _xlsx(statement)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, media = _pdf(statement), "application/pdf"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.{kind}"},
    )


def _csv(statement: Statement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{_name(statement)}（{statement.first_day} 至 {statement.last_day}）"])
    writer.writerow(["拨付清单（按企业）"])
    writer.writerow([h for _, h in FIRM_COLUMNS])
    writer.writerows([csv_cell(v) for v in row] for row in firm_rows(statement))
    writer.writerow([])
    writer.writerow(["按银行"])
    writer.writerow([h for _, h in BANK_COLUMNS])
    writer.writerows([csv_cell(v) for v in row] for row in bank_rows(statement))
    if statement.adjustments:
        writer.writerow([])
        writer.writerow(["对以前期间的调整（已计入以上金额）"])
        writer.writerow(["更正期间", "企业名称", "统一社会信用代码", "项目", "调整金额"])
        writer.writerows([csv_cell(v) for v in row] for row in adjustment_rows(statement))
    # With a BOM, so Excel opens the Chinese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def _sheet(book: Workbook, title: str, headings: list[str], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(sheet, row)
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = 22 if letter in "AB" else 16
        for cell in column[1:]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    if rows and rows[-1][0] == "合计":
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)


def _xlsx(statement: Statement) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _sheet(book, "拨付清单", [h for _, h in FIRM_COLUMNS], firm_rows(statement))
    _sheet(book, "按银行", [h for _, h in BANK_COLUMNS], bank_rows(statement))
    _sheet(
        book,
        "调整",
        ["更正期间", "企业名称", "统一社会信用代码", "项目", "调整金额"],
        adjustment_rows(statement),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _money(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _pdf(statement: Statement) -> bytes:
    pdf = chinese_pdf(orientation="landscape", fallback="；请下载 Excel 或 CSV")
    pdf.set_font("cjk", size=14)
    pdf.cell(0, 9, f"青浦区批次贷 · {_name(statement)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(
        0,
        6,
        f"期间 {statement.first_day} 至 {statement.last_day}；金额单位：元",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _pdf_table(
        pdf,
        "拨付清单（按企业）",
        [h for k, h in FIRM_COLUMNS if k != "uscc"],
        [
            [v for (k, _), v in zip(FIRM_COLUMNS, row, strict=True) if k != "uscc"]
            for row in firm_rows(statement)
        ],
    )
    _pdf_table(pdf, "按银行", [h for _, h in BANK_COLUMNS], bank_rows(statement))
    if statement.adjustments:
        _pdf_table(
            pdf,
            "对以前期间的调整（已计入以上金额）",
            ["更正期间", "企业名称", "统一社会信用代码", "项目", "调整金额"],
            adjustment_rows(statement),
        )
    return bytes(pdf.output())


def _pdf_table(pdf: "FPDF", title: str, headings: list[str], rows: list[list[Any]]) -> None:
    pdf.ln(3)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7.5)
    # Amounts right-aligned (a column is an amount if any of its cells is); names wider.
    numeric = [any(isinstance(r[i], Decimal) for r in rows) for i in range(len(headings))]
    widths = tuple(1 if n else 1.6 for n in numeric)
    align = tuple("RIGHT" if n else "LEFT" for n in numeric)
    heading = heading_style()
    with pdf.table(
        headings_style=heading, line_height=5, text_align=align, col_widths=widths
    ) as table:
        table.row(headings)
        for row in rows:
            table.row([_money(v) for v in row])
