"""The batch approval sheet (批次审批单) as PDF: what the bureau signs and files — the bank,
quota, window and policy, every loan allocated with its firm and amount, and who drafted,
submitted and approved it, with lines for signatures."""

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.bank_gateway.batches import service as batches
from services.bank_gateway.console.pages import names, render_page, staff_member, to_login
from services.bank_gateway.ledger import loans as ledger
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.money import yuan
from shared.pdf import FONT, chinese_pdf, heading_style
from shared.web import problem_text, shanghai

sheet_pages = APIRouter(prefix="/console", include_in_schema=False)

MAX_LOANS = 2000  # a batch's loans on one sheet (a batch holds far fewer)


@sheet_pages.get("/batches/{batch_id}/sheet.pdf")
async def approval_sheet(request: Request, batch_id: uuid.UUID, session: SessionDep) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    try:
        batch = await batches.get_batch(session=session, principal=principal, batch_id=batch_id)
        loaded = await batches.load(session, principal, batch_id)
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    allocated = await ledger.list_loans(
        session=session, batch=loaded, offset=0, limit=MAX_LOANS, sort="enterprise"
    )
    people = await names(session, [batch.created_by, batch.submitted_by, batch.approved_by])
    pdf = chinese_pdf()
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 11, "青浦区批次贷 批次审批单", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    facts = [
        ("批次", batch.name),
        ("合作银行", batch.bank_name),
        ("批次额度", yuan(batch.quota)),
        ("已分配", f"{yuan(batch.allocated)}（{allocated.total} 笔）"),
        ("有效期", f"{batch.valid_from} 至 {batch.valid_to}"),
        ("状态", batch.status_zh),
    ]
    for label, value in facts:
        pdf.cell(0, 6, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    heading = heading_style()
    with pdf.table(
        headings_style=heading, col_widths=(10, 60, 40, 25, 15), line_height=6, text_align="LEFT"
    ) as table:
        table.row(["序号", "企业", "统一社会信用代码", "分配金额", "期限"])
        for n, loan in enumerate(allocated.items, start=1):
            table.row(
                [
                    str(n),
                    loan.enterprise_name,
                    loan.enterprise_uscc,
                    yuan(loan.amount),
                    f"{loan.term_months} 个月",
                ]
            )
        table.row(["", "合计", "", yuan(batch.allocated), ""])
    _signatures(pdf, batch, people)
    pdf.cell(0, 8, f"打印日期：{shanghai_today()}", align="R", new_x="LMARGIN", new_y="NEXT")
    name = f"批次审批单_{batch.name}.pdf"
    return Response(
        bytes(pdf.output()),
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


def _signatures(pdf: Any, batch: Any, people: dict[str, str]) -> None:
    """Who drafted, submitted and approved, when, and a line for each to sign."""
    pdf.ln(4)
    for step, actor, at in (
        ("起草", batch.created_by, batch.created_at),
        ("提交", batch.submitted_by, batch.submitted_at),
        ("审批", batch.approved_by, batch.approved_at),
    ):
        who = people.get(actor or "", actor or "—")
        when = shanghai(at) if at else "—"
        pdf.cell(0, 8, f"{step}：{who}　{when}　签字：____________", new_x="LMARGIN", new_y="NEXT")
