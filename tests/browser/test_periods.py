"""The finance bureau closes a fiscal period in Chromium (issue 15): carol, an approver,
finds the period awaiting its close, closes it, records the subsidies paid with the voucher
and downloads the 拨付清单 as Excel; the page at phone width too."""

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, expect

from deploy.local import LocalStack
from tests.browser.conftest import shot
from tests.browser.test_journey import staff_page
from tests.conftest import Tokens
from tests.e2e.test_bank_flow import defaulted_loan, real_bank

pytestmark = pytest.mark.e2e


async def test_the_bureau_closes_a_period_pays_and_downloads(
    browser: Browser, stack: LocalStack, stack_tokens: Tokens, tmp_path: Path
) -> None:
    with real_bank(stack, stack_tokens, "浏览器结算测试银行") as bank:
        defaulted_loan(stack, stack_tokens, bank)  # lent 199 days ago: its period has ended

    carol = await staff_page(browser, stack, "carol")
    await carol.click("nav >> text=结算期")
    await expect(carol.locator("h1")).to_have_text("结算期与对账单")
    await carol.screenshot(path=shot("periods"), full_page=True)
    waiting = carol.locator("#periods tr:has(.badge:text('待关账')) a").first
    await waiting.click()
    await expect(carol.locator("#period-status")).to_have_text("待关账")
    await expect(carol.locator("#enterprises")).to_contain_text("合计")
    await carol.click("#close button")
    await expect(carol.locator(".flash")).to_contain_text("已关账")
    await expect(carol.locator("#period-status")).to_have_text("已关账")

    await carol.fill("#payout-form input[name=voucher_number]", "青财拨〔2026〕88号")
    await carol.click("#payout-form button")
    await expect(carol.locator(".flash")).to_contain_text("已登记拨付")
    await expect(carol.locator("#enterprises")).to_contain_text("青财拨〔2026〕88号")
    await expect(carol.locator("#payout-form")).to_have_count(0)
    await carol.screenshot(path=shot("period-closed"), full_page=True)

    async with carol.expect_download() as download:
        await carol.click("a:text('Excel')")
    got = await download.value
    assert re.search(r"对账单\.xlsx$", got.suggested_filename)
    saved = tmp_path / got.suggested_filename
    await got.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["拨付清单", "按银行", "调整"]
    firms = book["拨付清单"]
    assert firms.cell(row=firms.max_row, column=1).value == "合计"

    phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = await phone.new_page()
    await page.context.add_cookies(await carol.context.cookies())
    await page.goto(carol.url.split("?")[0])
    await expect(page.locator("#period-status")).to_have_text("已关账")
    await page.screenshot(path=shot("period-phone"), full_page=True)
