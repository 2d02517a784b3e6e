"""The guarantee fund's reviewers in Chromium (issue 15): dave finds the bank's claim in his
inbox, reads the loan's life and the ceiling's room, and approves; erin, who holds the
approver right, confirms it (above ¥500,000); dave records the payment with its voucher."""

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from deploy.local import LocalStack
from shared.clock import shanghai_today
from tests.bank_gateway.conftest import PDF, REQUIRED_PAPERS
from tests.browser.conftest import shot
from tests.conftest import Tokens
from tests.e2e.test_bank_flow import bank_token, defaulted_loan, file_claim, real_bank, until

pytestmark = pytest.mark.e2e


async def fund_page(browser: Browser, stack: LocalStack, username: str) -> Page:
    """A reviewer of the guarantee fund signed in: the console opens on the claims desk."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(stack.url("bank_gateway") + "/console/")
    await page.wait_for_url(re.compile(r"/console/login"))
    await page.fill("#username", username)
    await page.fill("#password", f"dev-password-{username}")
    await page.click("main button[type=submit]")
    await expect(page.locator("h1")).to_have_text("代偿审核")
    return page


async def test_a_claim_reviewed_confirmed_and_paid_in_the_console(
    browser: Browser, stack: LocalStack, stack_tokens: Tokens
) -> None:
    with real_bank(stack, stack_tokens, "浏览器代偿测试银行") as bank:
        _, loan, _, _ = defaulted_loan(stack, stack_tokens, bank)
        file_claim(stack, bank, loan)
        token = bank_token(stack, bank)
        async with httpx.AsyncClient(base_url=stack.url("bank_gateway"), timeout=10) as client:
            for kind in REQUIRED_PAPERS:  # the bank's papers, through the gateway
                for _ in range(50):  # the 备案 reaches the fund through the gateway's outbox
                    sent = await client.post(
                        f"/v1/bank/loans/{loan}/claim-documents",
                        params={"kind": kind, "filename": f"{kind}.pdf"},
                        content=PDF,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/pdf",
                        },
                    )
                    if sent.status_code != 404:
                        break
                    await asyncio.sleep(0.2)
                assert sent.status_code in (200, 201), sent.text

        dave = await fund_page(browser, stack, "dave")
        row = dave.locator(f'#claims tr:has(a[data-loan="{loan}"])')
        for _ in range(60):  # the gateway's outbox files the claim with the fund
            if await row.count():
                break
            await dave.wait_for_timeout(500)
            await dave.reload()
        await expect(row).to_contain_text("待审核")
        await dave.screenshot(path=shot("fund-inbox"), full_page=True)
        await row.locator("a").click()
        await expect(dave.locator("#figures")).to_contain_text("¥1,615,400.00")
        await expect(dave.locator("#room")).to_contain_text("须另一位有审批权限的人员复核")
        await expect(dave.locator("#history")).to_contain_text("违约")
        await expect(dave.locator("#papers")).to_contain_text("借款合同及借据")
        await dave.screenshot(path=shot("fund-claim"), full_page=True)
        await dave.click("#review button:has-text('认领审核')")
        await expect(dave.locator(".flash")).to_have_text("已认领，请审核")
        await dave.click("#review button:has-text('提交审核意见')")
        await expect(dave.locator("#claim-status")).to_have_text("待复核")
        claim_url = dave.url.split("?")[0]

        erin = await fund_page(browser, stack, "erin")
        await erin.goto(claim_url)
        await erin.click("#second button[value=yes]")
        await expect(erin.locator("#claim-status")).to_have_text("已同意，待支付")
        # 4,000,000 filed × 5 %: the ceiling pays 200,000 now, the rest stays open.
        await expect(erin.locator("#figures")).to_contain_text("¥200,000.00")

        await dave.goto(claim_url)
        await dave.fill("#reference", "PZ-2026-0815")
        await dave.fill("#paid_on", shanghai_today().isoformat())
        await dave.click("#payment button[type=submit]")
        await expect(dave.locator("#claim-status")).to_have_text("已支付")
        await expect(dave.locator("#figures")).to_contain_text("凭证号 PZ-2026-0815")
        await dave.screenshot(path=shot("fund-paid"), full_page=True)
        assert until(lambda: bank["receiver"].events("claim.paid"), timeout=30)
        for page in (dave, erin):
            await page.context.close()
