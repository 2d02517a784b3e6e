"""The clerk finds applications and firms in the console and reads a firm's page."""

import re
import uuid

import pypdfium2

from tests.bank_gateway.batches.test_opening import open_batch_with
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import signed_in
from tests.conftest import make_uscc


async def test_a_clerk_finds_applications_and_reads_the_firm(desk: Desk) -> None:
    firm, tag = make_uscc(), uuid.uuid4().hex[:6]
    name = f"上海青浦{tag}精工有限公司"
    first, _second = await desk.eligible_applications(
        2, uscc=firm, enterprise__name=name, enterprise__total_liabilities="2700000.00"
    )

    async with signed_in(desk, "alice") as alice:
        found = await alice.get("/console/applications", params={"q": tag})
        assert found.status_code == 200
        assert re.search(r"共找到 <strong>2</strong> 件申请", found.text)
        assert found.text.count(f'href="/console/enterprises/{firm}"') == 2
        number = re.search(
            rf'href="/console/applications/{first}">(QP-\d{{4}}-\d{{6}})<', found.text
        )
        assert number, "each row names the application by its number"
        one = await alice.get("/console/applications", params={"q": number.group(1)})
        assert re.search(r"共找到 <strong>1</strong> 件申请", one.text)
        none = await alice.get("/console/applications", params={"q": tag, "status": "withdrawn"})
        assert "没有符合条件的申请" in none.text
        # A mistake in the filters is said on the page, not a 500.
        bad_day = await alice.get("/console/applications", params={"submitted_from": "2026-13-01"})
        assert bad_day.status_code == 200 and 'class="alert"' in bad_day.text

        firms = await alice.get("/console/enterprises", params={"q": tag})
        assert f'href="/console/enterprises/{firm}">{name}</a>' in firms.text

        page = await alice.get(f"/console/enterprises/{firm}")
        assert page.status_code == 200 and name in page.text
        assert "共 2 件" in page.text
        assert "30.0%" in page.text  # 资产负债率: 2.7 m ÷ 9 m
        assert "¥0.00" in page.text  # nothing guaranteed yet, nothing paid
        missing = await alice.get(f"/console/enterprises/{make_uscc()}")
        assert missing.status_code == 404 and "没有统一社会信用代码为" in missing.text


async def test_pages_name_people_and_the_approvers_inbox_lists_batches_to_approve(
    desk: Desk,
) -> None:
    code = await desk.register_bank()
    batch = await open_batch_with(desk, code, await desk.eligible_applications(1), open_it=False)
    async with signed_in(desk, "carol") as carol:
        page = await carol.get(f"/console/batches/{batch['id']}")
        assert "张丽（经办）" in page.text  # drafted and submitted by alice
        assert "bureau:alice" not in page.text and ">alice<" not in page.text
        inbox = await carol.get("/console/")
        for section in ("pending-policies", "suspended-batches", "periods-to-close"):
            assert f'id="{section}"' in inbox.text
        # The approval sheet the bureau signs: the loans, their total, the people by name.
        sheet = await carol.get(f"/console/batches/{batch['id']}/sheet.pdf")
        assert sheet.headers["content-type"] == "application/pdf"
        document = pypdfium2.PdfDocument(sheet.content)
        text = "".join(p.get_textpage().get_text_range() for p in document)
        assert "批次审批单" in text and "上海青浦测试制造有限公司" in text
        assert "张丽（经办）" in text and "¥2,000,000.00" in text


async def test_a_browser_meets_errors_as_pages_and_the_api_keeps_problem_json(
    desk: Desk,
) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    async with signed_in(desk, "alice") as alice:
        missing = await alice.get("/console/no-such-page", headers=html)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "没有这个地址" in missing.text and "no route" not in missing.text
        assert 'href="/console/"' in missing.text  # the way back
        bad = await alice.get("/console/batches/not-a-uuid", headers=html)
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    api = await desk.gateway.get("/console/no-such-page", headers={"Accept": "application/json"})
    assert api.headers["content-type"] == "application/problem+json"
    portal = await desk.intake.client.get("/portal/no-such-page", headers=html)
    assert portal.status_code == 404 and "返回我的申请" in portal.text


async def test_the_reviewer_reads_the_firm_s_papers(desk: Desk) -> None:
    firm = make_uscc()
    [application] = await desk.eligible_applications(1, uscc=firm)
    pdf = b"%PDF-1.4\n% licence\n%%EOF\n"
    sent = await desk.intake.client.post(
        f"/v1/applications/{application}/documents",
        params={"kind": "business_licence", "filename": "营业执照.pdf"},
        content=pdf,
        headers={**desk.tokens.header(desk.tokens.sme(firm)), "Content-Type": "application/pdf"},
    )
    assert sent.status_code == 201, sent.text
    async with signed_in(desk, "alice") as alice:
        page = await alice.get(f"/console/applications/{application}")
        link = re.search(r'href="(/console/applications/[^"]+/documents/[0-9a-f-]{36})"', page.text)
        assert link and "营业执照" in page.text
        paper = await alice.get(link.group(1))
        assert paper.content == pdf and paper.headers["content-security-policy"] == "sandbox"
