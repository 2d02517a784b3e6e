"""A clerk imports an official list in the console — previewed, a bad row named and nothing
imported, unusual headers mapped, approved by another person — and an SME on it sees its
declared fact verified by that list on its own page."""

import re
import uuid

import pytest
from playwright.async_api import Browser, Page, expect

from deploy.local import LocalStack
from tests.bank_gateway.conftest import PDF
from tests.browser.conftest import shot
from tests.browser.test_journey import staff_page
from tests.browser.test_portal import fill_application, register
from tests.conftest import make_uscc

pytestmark = pytest.mark.e2e


def csv_file(name: str, header: str, rows: list[str]) -> dict[str, object]:
    body = "\n".join([header, *rows]) + "\n"
    return {"name": name, "mimeType": "text/csv", "buffer": body.encode("gb18030")}


async def choose(page: Page, title: str, batch: str, file: dict[str, object]) -> None:
    await page.wait_for_load_state("load")  # the page's script listens for the choice
    await page.select_option("#import select[name=kind]", "high_tech")
    # The kind's usual issuer is filled in for the clerk.
    await expect(page.locator("#issuer")).to_have_value("上海市高新技术企业认定管理工作领导小组")
    await page.fill("#batch", batch)
    await page.fill("#title", title)
    await page.set_input_files("#file", file)  # type: ignore[arg-type]
    await page.click("#import button[type=submit]")


async def apply(sme: Page) -> None:
    await fill_application(sme, amount="2000000.00")
    await sme.click("#apply button[type=submit]")
    await sme.wait_for_url(re.compile(r"/portal/applications/[0-9a-f-]{36}"))
    await expect(sme.locator("#status")).to_have_text("符合条件", timeout=20_000)


async def test_a_clerk_imports_a_list_and_the_sme_sees_its_fact_verified(
    browser: Browser, stack: LocalStack
) -> None:
    listed, other = make_uscc(), make_uscc()
    broken = listed[:17] + ("1" if listed[17] != "1" else "2")
    batch = f"2026年第{uuid.uuid4().hex[:4]}批"
    title = f"2026年度高新技术企业名单（{batch}）"

    # The firm applies declaring 高新技术企业 while no list shows it: not counted, and said.
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sme = await context.new_page()
    await register(sme, stack, listed, "上海青浦乙有限公司")
    await apply(sme)
    await expect(sme.locator("#decision .facts")).to_contain_text("名单中未见该企业")
    # It holds a certificate: it asks the bureau to review it.
    await sme.click("#facts summary")
    await sme.fill("#cert-high_tech", "GR202631000999")
    await sme.set_input_files(
        "#file-high_tech",
        {"name": "高新证书.pdf", "mimeType": "application/pdf", "buffer": PDF},  # type: ignore[arg-type]
    )
    await sme.click("#facts button[type=submit]")
    await expect(sme.locator("#fact-reviews")).to_contain_text("待财政局处理")
    first_application = sme.url.split("?")[0]
    await sme.screenshot(path=shot("portal-fact-review"), full_page=True)

    alice = await staff_page(browser, stack, "alice")
    await alice.click("nav >> text=核验名单")
    await expect(alice.locator("h1")).to_have_text("核验名单")

    # A file with a wrong check character: every bad row named, nothing can be imported.
    await choose(
        alice,
        title,
        batch,
        csv_file(
            "高新名单.csv",
            "序号,统一社会信用代码,企业名称,证书编号",
            [f"1,{other},上海青浦甲科技有限公司,GR2026310001", f"2,{broken},上海青浦乙有限公司,"],
        ),
    )
    await expect(alice.locator("#bad-summary")).to_contain_text("1 行有误")
    await expect(alice.locator("#bad-rows")).to_contain_text("第 3 行")
    await expect(alice.locator("#bad-rows")).to_contain_text("校验")
    await expect(alice.locator("#confirm-import")).to_be_disabled()
    await alice.screenshot(path=shot("console-list-bad-row"), full_page=True)
    await alice.goto(stack.url("bank_gateway") + "/console/reference-lists?kind=high_tech")
    await expect(alice.locator("#lists")).not_to_contain_text(title)  # nothing imported

    # The corrected file, with headers of the issuer's own: mapped, then imported.
    await choose(
        alice,
        title,
        batch,
        csv_file(
            "高新名单（改）.csv",
            "编号,信用代码号,公司,证书",
            [f"1,{other},上海青浦甲科技有限公司,GR2026310001", f"2,{listed},上海青浦乙有限公司,"],
        ),
    )
    await expect(alice.locator("#preview-summary")).to_contain_text("找不到")
    await alice.select_option("#c-uscc", "信用代码号")
    await alice.select_option("#c-name", "公司")
    await alice.select_option("#c-certificate_no", "证书")
    await alice.click("#mapping button[value=preview]")
    await expect(alice.locator("#ready")).to_contain_text("共 2 行，全部可以导入")
    await expect(alice.locator("#sample")).to_contain_text("GR2026310001")
    await alice.screenshot(path=shot("console-list-preview"), full_page=True)
    await alice.click("#confirm-import")
    await alice.wait_for_url(re.compile(r"/console/reference-lists/[0-9a-f-]{36}"))
    await expect(alice.locator(".flash")).to_contain_text("已导入草稿：2 家企业")
    await expect(alice.locator("#list-status")).to_have_text("草稿")
    await alice.fill("#q", "乙")
    await alice.click("#entries button[type=submit]")
    await expect(alice.locator("#entries tbody tr")).to_have_count(1)
    await expect(alice.locator("#entries")).to_contain_text(listed)
    # Before it counts: who would change were it in force — the firm's score.
    await alice.click("#whatif button[type=submit]")
    await expect(alice.locator("#whatif-status")).to_contain_text("100%", timeout=30_000)
    await expect(alice.locator("#whatif")).to_contain_text("上海青浦乙有限公司")
    await alice.screenshot(path=shot("console-list-whatif"), full_page=True)
    await alice.click("#list-actions button:has-text('提交审批')")
    await expect(alice.locator("#list-status")).to_have_text("待审批")
    await expect(alice.locator("#list-actions")).to_contain_text("另一位有审批权限")
    list_url = alice.url.split("?")[0]

    carol = await staff_page(browser, stack, "carol")
    await carol.goto(list_url)
    await carol.click("#list-actions button:has-text('批准')")
    await expect(carol.locator("#list-status")).to_contain_text("现行有效")
    await carol.screenshot(path=shot("console-list-approved"), full_page=True)
    await carol.goto(stack.url("bank_gateway") + "/console/reference-lists/changes")
    await expect(carol.locator("h1")).to_have_text("名单变动关注")
    await expect(carol.locator("#changes-summary")).to_be_visible()

    # Applying again, now on a list in force: verified, the list named.
    await sme.goto(stack.url("loan_intake") + "/portal/applications/new")
    await apply(sme)
    facts = sme.locator("#decision .facts")
    await expect(facts).to_contain_text(f"高新技术企业：经《{title}》")
    await sme.screenshot(path=shot("portal-facts-verified"), full_page=True)
    # The review the firm asked for: the list now shows it; the certificate checked, accepted.
    await carol.goto(stack.url("bank_gateway") + "/console/fact-reviews")
    await carol.locator("#reviews a", has_text="上海青浦乙有限公司").first.click()
    await expect(carol.locator("#review-actions")).to_contain_text("已列入《" + title)
    await carol.screenshot(path=shot("console-fact-review"), full_page=True)
    await carol.click("#review-actions button:has-text('复核通过')")
    await expect(carol.locator("#review-status")).to_have_text("复核通过")
    await sme.goto(first_application)
    await expect(sme.locator("#fact-reviews")).to_contain_text("复核通过")
    for page in (alice, carol, sme):
        await page.context.close()
