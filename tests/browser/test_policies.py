"""Policy work in the console: a draft edited, tested by what-if (with its charts),
submitted by one person and approved by another."""

import asyncio
import re

import pytest
from playwright.async_api import Browser, expect

from deploy.local import LocalStack
from tests.browser.conftest import shot
from tests.browser.test_journey import staff_page
from tests.conftest import Tokens, make_uscc
from tests.e2e.test_path import submit, wait_for_decision

pytestmark = pytest.mark.e2e


async def test_a_policy_change_tested_by_what_if_and_approved_by_another(
    browser: Browser, stack: LocalStack, stack_tokens: Tokens
) -> None:
    # Something to replay: an application assessed today under the policy in force.
    uscc = make_uscc()
    response = await asyncio.to_thread(submit, stack, stack_tokens, uscc)
    location = response.headers["Location"]
    await asyncio.to_thread(wait_for_decision, stack, stack_tokens, uscc, location)

    alice = await staff_page(browser, stack, "alice")
    await alice.click("nav >> text=政策")
    await expect(alice.locator("h1")).to_have_text("政策版本")
    await alice.locator("#policies tbody tr", has_text="现行").get_by_role("link").click()
    await alice.fill("#policy-actions input[name=note]", "单户上限降至 150 万元（测试）")
    await alice.click("#policy-actions button:has-text('复制为新草稿')")
    await expect(alice.locator("#policy-status")).to_have_text("草稿")
    draft_url = alice.url.split("?")[0]

    # The structured editor: checked as typed, a refused save keeps the edits, labels in
    # Chinese everywhere (the YAML is the advanced view).
    cap = alice.locator('[id="f-terms.default.max_amount"]')
    await cap.fill("一百五十万")
    await expect(alice.locator("#edit-errors")).to_contain_text("默认条款 · 单户上限")
    await alice.click("#structured button[type=submit]")
    await expect(alice.locator(".alert").first).to_contain_text("草稿未保存")
    await expect(cap).to_have_value("一百五十万")
    await alice.screenshot(path=shot("console-policy-editor"), full_page=True)
    await cap.fill("150万")
    await alice.click("#structured button[type=submit]")
    await expect(alice.locator(".flash")).to_have_text("草稿已保存")
    await expect(alice.locator("#diff")).to_contain_text("默认条款 · 单户上限")
    await expect(alice.locator("#diff")).to_contain_text("1500000.00")
    # The YAML, for what the fields do not offer: refused with the same labels, kept.
    await alice.click("#yaml-advanced summary")
    yaml = await alice.locator("#yaml").input_value()
    await alice.fill("#yaml", yaml.replace("max_amount: '1500000.00'", "max_amount: 'lots'"))
    await alice.click("#edit button[type=submit]")
    await expect(alice.locator(".alert").first).to_contain_text("单户上限")
    await alice.click("#yaml-advanced summary")
    await expect(alice.locator("#yaml")).to_contain_text("max_amount: 'lots'")

    await alice.click("#whatif button[type=submit]")
    await expect(alice.locator("#whatif-status")).to_contain_text("100%", timeout=30_000)
    await expect(alice.locator("#whatif-result")).to_contain_text("通过率")
    await expect(alice.locator("#chart-decisions")).to_contain_text("不符合条件")
    await expect(alice.locator("#chart-rate")).to_contain_text("担保规模")
    await expect(alice.locator("#whatif-budget")).to_contain_text("担保费财政补贴")
    await alice.screenshot(path=shot("console-policy-whatif"), full_page=True)

    await alice.click("#policy-actions button:has-text('提交审批')")
    await expect(alice.locator("#policy-status")).to_have_text("待审批")
    await expect(alice.locator("#policy-actions")).to_contain_text("另一位有审批权限")

    carol = await staff_page(browser, stack, "carol")
    await carol.goto(draft_url)
    await carol.click("#policy-actions button:has-text('批准')")
    await expect(carol.locator("#policy-status")).to_contain_text("已批准")
    await expect(carol.locator(".flash")).to_have_text("已批准")
    assert re.search(r"/console/policies/[0-9a-f-]{36}", carol.url)
    for page in (alice, carol):
        await page.context.close()
