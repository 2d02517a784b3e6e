"""The bureau decides a referred application from its inbox; the SME reads the decision.
And the console reads at phone width."""

import re

import pytest
from playwright.async_api import Browser, expect

from deploy.local import LocalStack
from tests.browser.conftest import shot
from tests.browser.test_journey import staff_page
from tests.browser.test_portal import fill_application, register
from tests.conftest import make_uscc

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


async def test_a_referred_application_decided_in_the_console(
    browser: Browser, stack: LocalStack
) -> None:
    sme_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    sme = await sme_context.new_page()
    await register(sme, stack, make_uscc(), "上海青浦复核测试有限公司")
    # More than half its revenue and no priority flags: scored 50, referred to the bureau.
    await fill_application(sme, amount="7000000.00")
    await sme.uncheck("input[name='enterprise.flags.high_tech']")
    await sme.click("#apply button[type=submit]")
    await expect(sme.locator("#status")).to_have_text("待人工复核", timeout=20_000)
    await expect(sme.locator("#decision")).to_contain_text("需财政局人工复核")
    application_url = sme.url.split("?")[0]

    alice = await staff_page(browser, stack, "alice")
    await alice.locator("#referred a", has_text="上海青浦复核测试有限公司").click()
    await expect(alice.locator("#trace")).to_contain_text("基础分")
    await expect(alice.locator("#trace")).to_contain_text("申请金额相对营业收入过高")
    await expect(alice.locator("#debt-ratio")).to_be_visible()
    await alice.screenshot(path=shot("console-review"), full_page=True)
    # 退回补充材料: the firm is told what to add, answers, and it comes back to the inbox.
    await alice.fill("#note", "请补充主要客户订单及近两年负债明细")
    await alice.click("#review button[value=returned]")
    await expect(alice.locator(".flash")).to_have_text("复核意见已记录")
    await sme.goto(application_url)
    await expect(sme.locator("#status")).to_have_text("待补充材料")
    await expect(sme.locator("#decision")).to_contain_text("请补充主要客户订单")
    await sme.screenshot(path=shot("portal-returned"), full_page=True)
    await sme.fill(
        "#supplement-note", "主要客户为长三角汽车零部件企业，订单合同已随附；负债为设备融资租赁"
    )
    await sme.click("#supplement button[type=submit]")
    await expect(sme.locator("#supplemented")).to_be_visible()
    await expect(sme.locator("#status")).to_have_text("待人工复核")
    # With the answer, the papers: a PDF chosen in the page's own upload form.
    await sme.select_option("#kind", "financial_statements")
    await sme.set_input_files(
        "#file",
        files=[{"name": "2025年财务报表.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    await sme.click("#upload button[type=submit]")
    await expect(sme.locator("#document-list")).to_contain_text("2025年财务报表.pdf")
    await alice.goto(re.sub(r"/console/.*$", "/console/", alice.url))
    await alice.locator("#referred a", has_text="上海青浦复核测试有限公司").click()
    await expect(alice.locator("#history")).to_contain_text("企业已补充材料")
    await expect(alice.locator("#documents")).to_contain_text("2025年财务报表.pdf")
    await alice.fill("#note", "经实地核查，订单充足，同意纳入批次")
    await alice.click("#review button[value=eligible]")
    await expect(alice.locator(".flash")).to_have_text("复核意见已记录")
    await expect(alice.locator("#referred")).not_to_contain_text("上海青浦复核测试有限公司")

    await sme.goto(application_url)
    await expect(sme.locator("#status")).to_have_text("符合条件")
    await expect(sme.locator("#decision")).to_contain_text("订单充足")
    # The decision letter, and the news in the message centre with its unread count.
    async with sme.expect_download() as letter:
        await sme.click("#letter a")
    assert (await letter.value).suggested_filename.startswith("担保意向函_QP-")
    await expect(sme.locator("#unread")).to_be_visible()
    await sme.click("#messages-link")
    await expect(sme.locator("#messages li").first).to_contain_text("符合条件")
    await sme.screenshot(path=shot("portal-messages"), full_page=True)

    # The clerk finds it again by the number the firm quotes.
    number = await sme.locator("#messages li a").first.inner_text()
    await alice.goto(re.sub(r"/console/.*$", "/console/applications", alice.url))
    await alice.fill("#q", number.removeprefix("申请 "))
    await alice.click("#search button[type=submit]")
    await expect(alice.locator("#found")).to_contain_text("1")
    await alice.screenshot(path=shot("console-search"), full_page=True)

    # The console at phone width: the same inbox, still readable.
    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    await phone.add_cookies(await alice.context.cookies())
    small = await phone.new_page()
    await small.goto(re.sub(r"/console/.*$", "/console/batches", alice.url))
    await expect(small.locator("h1")).to_have_text("批次")
    await small.screenshot(path=shot("console-phone"), full_page=True)
    for context in (sme_context, alice.context, phone):
        await context.close()
