"""The SME portal as a person uses it: register, apply, see the decision, withdraw."""

import re

import pytest
from playwright.async_api import Browser, Page, expect

from deploy.local import LocalStack
from tests.browser.conftest import shot
from tests.conftest import make_uscc

pytestmark = pytest.mark.e2e

PASSWORD = "Qingpu2026pw"


def field(name: str) -> str:
    return "#" + name.replace(".", "\\.")


async def register(page: Page, stack: LocalStack, uscc: str, name: str) -> None:
    await page.goto(stack.url("loan_intake") + "/portal/register")
    await page.fill("#uscc", uscc[:12])
    await expect(page.locator("#uscc-error")).to_have_text("还差 6 位")
    wrong = uscc[:17] + ("1" if uscc[17] != "1" else "2")
    await page.fill("#uscc", wrong)
    await expect(page.locator("#uscc-error")).to_contain_text("校验不通过")
    await page.fill("#uscc", uscc)
    await expect(page.locator("[data-field=uscc] .hint")).to_have_text("代码有效（青浦区登记）")
    await page.fill("#enterprise_name", name)
    await page.fill("#contact_name", "王经理")
    await page.fill("#contact_phone", "13800138000")
    await page.fill("#password", "short1")
    await page.fill("#password_confirm", "short1")
    await page.click("main button[type=submit]")
    # Refused by the server: the message next to the field, what was typed still there.
    await expect(page.locator("#password-error")).to_contain_text("至少 10 位")
    await expect(page.locator("#enterprise_name")).to_have_value(name)
    await expect(page.locator("#uscc")).to_have_value(uscc)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_confirm", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/portal/applications/new$"))


async def fill_application(
    page: Page, *, amount: str, bad_credit: bool = False, scripts: bool = True
) -> None:
    await page.select_option(field("enterprise.sector"), "C")
    await page.fill(field("enterprise.employees"), "80")
    await page.fill(field("enterprise.annual_revenue"), "12000000.00")
    await page.fill(field("enterprise.total_assets"), "9000000.00")
    if scripts:  # shown as it is typed
        await expect(page.locator("#size-class")).to_have_text("工业 · 小型企业")
    await page.fill(field("enterprise.established_on"), "2018-03-01")
    await page.check("input[name='enterprise.flags.high_tech']")
    if bad_credit:
        await page.check("input[name='enterprise.flags.bad_credit_2y']")
    await page.fill(field("loan.amount"), amount)
    await page.fill(field("loan.purpose"), "购置生产设备")
    await page.fill(field("loan.preferred_bank"), "上海农商银行")


async def test_an_sme_registers_applies_and_sees_its_decision(
    browser: Browser, stack: LocalStack
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    uscc = make_uscc()
    await register(page, stack, uscc, "上海青浦浏览器测试科技有限公司")
    await expect(page.locator("h1")).to_have_text("申请批次贷")
    await expect(page.locator(field("enterprise.name"))).to_have_value(
        "上海青浦浏览器测试科技有限公司"
    )

    await fill_application(page, amount="2000000.555")
    await page.locator(field("loan.amount")).blur()
    await expect(page.locator(field("loan.amount") + "-error")).to_contain_text("两位小数")
    # A draft survives a reload.
    await page.reload()
    await expect(page.locator(field("enterprise.employees"))).to_have_value("80")
    await expect(page.locator(field("loan.amount"))).to_have_value("2000000.555")
    await expect(page.get_by_text("已恢复上次未提交的草稿")).to_be_visible()
    await page.screenshot(path=shot("portal-apply"), full_page=True)
    await page.fill(field("loan.amount"), "2000000.00")
    await page.click("#apply button[type=submit]")
    await page.wait_for_url(re.compile(r"/portal/applications/[0-9a-f-]{36}"))
    await expect(page.locator("#status")).to_have_text("符合条件", timeout=20_000)
    await expect(page.locator("#decision")).to_contain_text("各项准入条件均已满足")
    # It declared 高新技术企业, which no list in force shows: said, and what it can do.
    await expect(page.locator("#decision .facts")).to_contain_text(
        "企业申报为高新技术企业，但评估日生效的名单中未见该企业，本次按未申报评估"
    )
    terms = page.locator("#terms")
    await expect(terms).to_contain_text("80%（担保金额 ¥1,600,000.00）")
    await expect(terms).to_contain_text("企业实付担保费")
    timeline = page.locator("#timeline li")
    await expect(timeline.first).to_contain_text("已提交")
    await expect(timeline.last).to_contain_text("符合条件")
    await page.screenshot(path=shot("portal-decision"), full_page=True)

    # A second one the policy refuses, with the reason in plain Chinese; a refusal is final
    # (nothing to withdraw), the eligible one can still be withdrawn.
    await page.goto(stack.url("loan_intake") + "/portal/applications/new")
    await fill_application(page, amount="100万", bad_credit=True)
    await page.click("#apply button[type=submit]")
    # 预审: told before filing, and may still file it.
    await expect(page.locator("#precheck")).to_contain_text("严重失信记录")
    await page.screenshot(path=shot("portal-precheck"), full_page=True)
    await page.click("#submit-anyway")
    await expect(page.locator("#status")).to_have_text("不符合条件", timeout=20_000)
    await expect(page.locator("#next-step")).to_contain_text("情况变化后")
    await expect(page.locator("#application-number")).to_have_text(re.compile(r"QP-\d{4}-\d{6}"))
    await page.screenshot(path=shot("portal-refused"), full_page=True)
    await expect(page.locator("#decision")).to_contain_text("失信")
    await expect(page.locator("#withdraw")).to_have_count(0)

    await page.goto(stack.url("loan_intake") + "/portal/applications")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("¥2,000,000.00")
    await page.screenshot(path=shot("portal-applications"), full_page=True)
    await rows.nth(1).get_by_role("link", name="查看").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.fill("#reason", "资金需求已满足")
    await page.click("#withdraw button[type=submit]")
    await expect(page.locator("#status")).to_have_text("已撤回")
    await expect(page.locator("#timeline li").last).to_contain_text("资金需求已满足")

    # At phone width the same page still reads.
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    await phone.add_cookies(await context.cookies())
    small = await phone.new_page()
    await small.goto(page.url)
    await expect(small.locator("#status")).to_have_text("已撤回")
    await small.screenshot(path=shot("portal-phone"), full_page=True)
    await context.close()
    await phone.close()


async def test_the_server_refuses_bad_input_without_scripts_and_keeps_it(
    browser: Browser, stack: LocalStack
) -> None:
    """With scripts off, only the server checks: its errors sit next to the fields."""
    context = await browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = await context.new_page()
    uscc = make_uscc()
    await page.goto(stack.url("loan_intake") + "/portal/register")
    await page.fill("#uscc", uscc[:17] + ("1" if uscc[17] != "1" else "2"))
    await page.fill("#enterprise_name", "无脚本测试有限公司")
    await page.click("main button[type=submit]")
    await expect(page.locator("#uscc-error")).to_contain_text("校验不通过")
    await expect(page.locator("#contact_phone-error")).not_to_be_empty()
    await expect(page.locator("#enterprise_name")).to_have_value("无脚本测试有限公司")
    await page.fill("#uscc", uscc)
    await page.fill("#contact_name", "李会计")
    await page.fill("#contact_phone", "021-59731234")
    await page.fill("#password", PASSWORD)
    await page.fill("#password_confirm", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/portal/applications/new$"))
    await fill_application(page, amount="0", scripts=False)
    await page.fill(field("enterprise.established_on"), "2099-01-01")
    await page.click("#apply button[type=submit]")
    await expect(page.locator("#size-class")).to_have_text("工业 · 小型企业")  # by the server
    await expect(page.locator(field("loan.amount") + "-error")).to_have_text("申请金额必须大于 0")
    await expect(page.locator(field("enterprise.established_on") + "-error")).to_contain_text(
        "不能晚于今天"
    )
    await expect(page.locator(field("enterprise.annual_revenue"))).to_have_value("12000000.00")
    await expect(page.locator("input[name='enterprise.flags.high_tech']")).to_be_checked()

    await context.clear_cookies()
    await page.goto(stack.url("loan_intake") + "/portal/applications")
    await page.wait_for_url(re.compile(r"/portal/login"))
    await page.fill("#uscc", uscc)
    await page.fill("#password", "wrong-password-1")
    await page.click("main button[type=submit]")
    await expect(page.locator(".alert")).to_have_text("统一社会信用代码或密码不正确")
    await page.fill("#password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/portal/applications$"))
    await context.close()
