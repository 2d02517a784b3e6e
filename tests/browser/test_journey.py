"""The whole journey in a browser: an SME applies, the bureau drafts a batch and a second
person approves it, the bank disburses by signed callback, the SME sees it, the console's
charts show it."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from standardwebhooks import Webhook

from deploy.local import LocalStack
from shared.clock import shanghai_today
from tests.browser.conftest import shot
from tests.browser.test_portal import fill_application, register
from tests.conftest import Tokens, make_uscc

pytestmark = pytest.mark.e2e


async def staff_page(browser: Browser, stack: LocalStack, username: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(stack.url("bank_gateway") + "/console/")
    await page.wait_for_url(re.compile(r"/console/login"))
    await page.fill("#username", username)
    await page.fill("#password", f"dev-password-{username}")
    await page.click("main button[type=submit]")
    await expect(page.locator("h1")).to_have_text("待办")
    page.on("dialog", lambda dialog: dialog.accept())
    return page


async def test_from_application_to_disbursal_in_the_browser(
    browser: Browser, stack: LocalStack, stack_tokens: Tokens
) -> None:
    gateway = stack.url("bank_gateway")
    code = f"w{uuid.uuid4().hex[:8]}"
    bank_name = f"青浦浏览器测试银行{code}"
    api = httpx.AsyncClient(base_url=gateway, timeout=10)
    registered = await api.post(
        "/v1/banks",
        json={"code": code, "name": bank_name},
        headers=stack_tokens.header(stack_tokens.admin()),
    )
    bank = registered.json()

    # 1. The SME applies, naming the bank.
    sme_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    sme = await sme_context.new_page()
    await register(sme, stack, make_uscc(), "上海青浦旅程测试制造有限公司")
    await fill_application(sme, amount="2000000.00")
    await sme.fill("#loan\\.preferred_bank", bank_name)
    await sme.click("#apply button[type=submit]")
    await expect(sme.locator("#status")).to_have_text("符合条件", timeout=20_000)
    application_url = sme.url.split("?")[0]

    # 2. alice drafts a batch for the bank and fills it from the SMEs that chose it.
    alice = await staff_page(browser, stack, "alice")
    await alice.screenshot(path=shot("console-inbox"), full_page=True)
    await alice.goto(gateway + "/console/batches/new")
    await alice.fill("#name", "浏览器测试批次")
    await alice.select_option("#bank_code", code)
    await alice.fill("#quota", "5000000")
    today = shanghai_today()
    await alice.fill("#valid_to", (today - timedelta(days=1)).isoformat())
    await alice.click("#batch-form button[type=submit]")
    # Refused by the server, next to the field; what was typed stays.
    await expect(alice.locator("[data-field=valid_to] .error")).to_contain_text("有效期")
    await expect(alice.locator("#quota")).to_have_value("5000000")
    await alice.fill("#valid_to", (today + timedelta(days=90)).isoformat())
    await alice.click("#batch-form button[type=submit]")
    await expect(alice.locator("#batch-status")).to_have_text("草稿")
    await alice.uncheck("input[name=include_no_preference]")
    await alice.click("form[action$=auto-allocation] button")
    await expect(alice.locator(".flash")).to_contain_text("已自动分配 1 笔申请")
    await expect(alice.locator("#loans tbody tr")).to_have_count(1)
    await expect(alice.locator("#loans")).to_contain_text("上海青浦旅程测试制造有限公司")
    await alice.click("form[action$=submission] button")
    await expect(alice.locator("#batch-status")).to_have_text("待审批")
    # The drafter cannot approve her own batch: no button, and the API would refuse.
    await expect(alice.locator("form[action$=approval]")).to_have_count(0)
    batch_url = alice.url.split("?")[0]

    # 3. carol, an approver, approves and opens it.
    carol = await staff_page(browser, stack, "carol")
    await expect(carol.locator("#pending-batches")).to_contain_text("浏览器测试批次")
    await carol.goto(batch_url)
    await carol.click("form[action$=approval] button")
    await expect(carol.locator("#batch-status")).to_have_text("已批准")
    await carol.click("form[action$=opening] button")
    await expect(carol.locator("#batch-status")).to_have_text("已开放")

    # 4. The bank approves and disburses by signed callbacks.
    listed = await api.get(
        f"/v1/batches/{batch_url.rsplit('/', 1)[-1]}/loans",
        headers=stack_tokens.header(stack_tokens.bank(code)),
    )
    [loan] = listed.json()["items"]
    signed_in = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(bank["client_id"], bank["client_secret"]),
    )
    token = signed_in.json()["access_token"]
    for kind, data in (
        (
            "loan.approved",
            {
                "approved_amount": "2000000.00",
                "annual_interest_rate": "0.0385",
                "approved_on": today.isoformat(),
            },
        ),
        (
            "loan.disbursed",
            {
                "amount": "1800000.00",
                "disbursed_on": today.isoformat(),
                "maturity_on": (today + timedelta(days=365)).isoformat(),
            },
        ),
    ):
        body = json.dumps({"type": kind, "data": {"loan_id": loan["id"], **data}})
        msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        sent = await api.post(
            "/v1/bank/events",
            content=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(bank["signing_secret"]).sign(msg_id, now, body),
            },
        )
        assert sent.status_code == 200, sent.text

    # 5. The SME sees it, with the amount and the date.
    await sme.goto(application_url)
    for _ in range(30):
        if (await sme.locator("#status").inner_text()) == "已放款":
            break
        await sme.wait_for_timeout(500)
        await sme.reload()
    await expect(sme.locator("#status")).to_have_text("已放款")
    await expect(sme.locator("#timeline li").last).to_contain_text("银行已放款 ¥1,800,000.00")
    await sme.screenshot(path=shot("portal-disbursed"), full_page=True)

    # 6. The console's figures and charts show it.
    await carol.goto(batch_url)
    await expect(carol.locator("#risk")).to_contain_text("¥1,800,000.00")
    await expect(carol.locator("#chart-states")).to_contain_text("已放款")
    await expect(carol.locator("#chart-utilisation")).to_contain_text("已放款 180.00万元")
    await expect(carol.locator("#chart-loss")).to_contain_text("暂停线 4.00%")
    await carol.screenshot(path=shot("console-batch"), full_page=True)
    await carol.goto(gateway + "/console/batches?status=open")
    await expect(carol.locator("#batches")).to_contain_text("浏览器测试批次")
    await carol.screenshot(path=shot("console-batches"), full_page=True)

    # 7. The fee the district subsidises for this loan's first year, in this month's report.
    await carol.click("nav >> text=补贴报表")
    row = carol.locator("#subsidies tbody tr", has_text=bank_name)
    # 1,800,000 × 0.5 % × 365 / 360 = 9,125.00; half of it subsidised.
    await expect(row).to_contain_text("¥9,125.00")
    await expect(row).to_contain_text("¥4,562.50")
    await carol.screenshot(path=shot("console-subsidies"), full_page=True)
    async with carol.expect_download() as downloading:
        await carol.click("text=导出 CSV")
    download = await downloading.value
    exported = (await download.path()).read_text(encoding="utf-8-sig")
    assert f"{bank_name},9125.00,4562.50" in exported
    for page in (sme, alice, carol):
        await page.context.close()
    await api.aclose()
