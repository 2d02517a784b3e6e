"""The decision letter (担保意向函) as PDF: what the fund has agreed to stand behind, on
which terms, and — once the loan is filed — the billed fee schedule. The SME prints it
for its bank; the text says what it is not (a guarantee contract)."""

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.loan_intake.applications import service
from services.loan_intake.applications.schemas import ApplicationPublic
from services.loan_intake.clients import GuaranteeUnavailable
from services.loan_intake.models import ApplicationStatus as S
from services.loan_intake.portal.pages import refusal, to_login
from shared.auth import Role
from shared.clock import shanghai_date
from shared.db import SessionDep
from shared.errors import AppError
from shared.money import percent, yuan
from shared.pdf import FONT, chinese_pdf, heading_style
from shared.web import problem_text, signed_in

letter_pages = APIRouter(prefix="/portal", include_in_schema=False)

# The fund has said yes (the policy or the bureau's review) and nobody has said no since.
WITH_LETTER = frozenset(
    {S.ELIGIBLE, S.ALLOCATED, S.BANK_REVIEWING, S.APPROVED, S.DISBURSED, S.REPAYING, S.SETTLED}
)
VALID_DAYS = 90


@letter_pages.get("/applications/{application_id}/letter.pdf")
async def decision_letter(
    request: Request, application_id: uuid.UUID, session: SessionDep
) -> Response:
    principal = await signed_in(request, role=Role.SME)
    if principal is None:
        return to_login(request)
    try:
        application = await service.get_application(
            session=session, principal=principal, application_id=application_id
        )
    except AppError as error:
        return refusal(request, principal, problem_text(error), 404)
    if application.status not in WITH_LETTER or application.terms is None:
        message = "该申请没有担保意向函：只有符合批次贷条件的申请才出具。"
        return refusal(request, principal, message, 409)
    billed = None
    if application.status in (S.DISBURSED, S.REPAYING, S.SETTLED):
        try:
            billed = await request.app.state.guarantee.guarantee_of(application_id)
        except GuaranteeUnavailable:
            billed = None  # the letter still holds; the schedule is on the page later
    content = letter(application, billed)
    name = f"担保意向函_{application.number or application.id}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


def letter(a: ApplicationPublic, billed: dict[str, Any] | None) -> bytes:
    """The letter's text and figures, as the portal's page shows them."""
    issued = shanghai_date(a.assessed_at or a.updated_at)
    pdf = chinese_pdf()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, "青浦区批次贷 担保意向函", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 7, f"编号：{a.number or a.id}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(
        0,
        7,
        f"{a.enterprise.name}（统一社会信用代码 {a.enterprise.uscc}）：\n"
        f"贵企业于 {shanghai_date(a.created_at)} 提交的批次贷申请，经评估符合"
        f"《{a.policy_name or '青浦区批次贷'}》的条件。上海市中小微企业政策性融资担保基金同意"
        "在合作银行批准并发放贷款后，按下列条件为该笔贷款提供担保：",
        align="L",  # justified text spreads Chinese at the spaces around figures
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _table(pdf, ["项目", "内容"], _terms(a), widths=(55, 125))
    if billed and billed.get("schedule"):
        _schedule(pdf, billed)
    until = issued + timedelta(days=VALID_DAYS)
    pdf.ln(4)
    pdf.set_font(FONT, size=10)
    for note in (
        "说明：",
        "1. 本意向函不构成担保合同，担保自贷款放款备案之日起生效；",
        "2. 担保费按实际放款金额和日期逐期计收，逾期期间到期的一期不享受财政补贴；",
        f"3. 本意向函自出具之日起 {VALID_DAYS} 天内有效（至 {until}）。",
    ):
        pdf.multi_cell(0, 6, note, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, size=11)
    for line in ("上海市中小微企业政策性融资担保基金", "青浦区财政局", f"{issued}"):
        pdf.cell(0, 7, line, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _terms(a: ApplicationPublic) -> list[tuple[str, ...]]:
    terms = a.terms
    assert terms is not None
    coverage = percent(terms.coverage_ratio, 0)
    subsidy_share = percent(terms.fee_subsidy_share, 0)
    rows = [
        ("申请金额", yuan(a.loan.amount)),
        ("贷款期限", f"{a.loan.term_months} 个月"),
        ("担保比例", f"{coverage}（担保金额 {yuan(terms.guaranteed_amount)}）"),
        ("年担保费率", percent(terms.annual_fee_rate)),
        ("预计担保费（全期）", yuan(terms.guarantee_fee)),
        ("区财政补贴", f"{yuan(terms.guarantee_fee_subsidy)}（{subsidy_share}）"),
        ("企业实付担保费", yuan(terms.guarantee_fee_payable)),
    ]
    if terms.interest_subsidy_share:
        rows.append(("贴息", f"利息的 {percent(terms.interest_subsidy_share, 0)} 由区财政补贴"))
    return rows


def _schedule(pdf: Any, billed: dict[str, Any]) -> None:
    """The fee schedule billed on the loan as filed (放款备案), with its total."""
    pdf.ln(3)
    pdf.cell(0, 8, "担保费计划（按已备案的实际放款）", new_x="LMARGIN", new_y="NEXT")
    rows = [
        (
            f"{p['period_from']} 至 {p['period_to']}",
            yuan(p.get("base") or billed["principal"]),
            yuan(p["fee"]),
            yuan(p["subsidy"]),
            yuan(p["payable"]),
        )
        for p in billed["schedule"]
    ]
    total = ("合计", "", yuan(billed["fee"]), yuan(billed["fee_subsidy"]))
    rows.append((*total, yuan(billed["fee_payable"])))
    headings = ["计费期间", "计费本金", "担保费", "财政补贴", "企业实付"]
    _table(pdf, headings, rows, widths=(56, 31, 31, 31, 31))


def _table(
    pdf: Any, headings: list[str], rows: list[tuple[str, ...]], *, widths: tuple[int, ...]
) -> None:
    # No bold face in the CJK font: headings are set apart by their fill.
    heading = heading_style()
    with pdf.table(
        headings_style=heading, col_widths=widths, text_align="LEFT", line_height=7
    ) as table:
        table.row(headings)
        for row in rows:
            table.row([str(cell) for cell in row])
