"""Every page, as axe-core (injected by Playwright) reads it: no serious or critical
violation, at desktop and phone width — and a screenshot of each at phone width."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from deploy.local import LocalStack
from tests.browser.conftest import shot
from tests.browser.test_portal import fill_application, register
from tests.conftest import Tokens, make_uscc
from tests.e2e.test_bank_flow import open_batch, real_bank

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = ((1280, 900), (390, 844))


async def violations(page: Page) -> list[str]:
    """Serious and critical findings of axe-core on the page as it stands."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: make browser")
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


async def checked(context: BrowserContext, url: str, name: str) -> list[str]:
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status < 400, f"{url}: {response}"
    width = page.viewport_size["width"] if page.viewport_size else 0
    await page.screenshot(path=shot(f"a11y-{name}-{width}"), full_page=True)
    found = [f"{name} @ {width}px: {v}" for v in await violations(page)]
    await page.close()
    return found


async def first_link(context: BrowserContext, url: str, pattern: str) -> str:
    """The first link on ``url`` to a page like ``pattern`` (a batch, a policy version)."""
    page = await context.new_page()
    await page.goto(url)
    hrefs = await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    await page.close()
    found = next((h for h in hrefs if re.search(pattern + "$", h)), None)
    assert found, f"no link like {pattern} on {url}"
    return found


async def signed_in_console(
    browser: Browser, stack: LocalStack, user: str, size: tuple[int, int]
) -> BrowserContext:
    context = await context_at(browser, size)
    page = await context.new_page()
    await page.goto(stack.url("bank_gateway") + "/console/login")
    await page.fill("#username", user)
    await page.fill("#password", f"dev-password-{user}")
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/console/(claims)?$"))
    await page.close()
    return context


def context_at(browser: Browser, size: tuple[int, int]) -> Any:
    # The pages' CSP allows no injected script: these contexts bypass it for axe alone.
    return browser.new_context(
        viewport={"width": size[0], "height": size[1]}, locale="zh-CN", bypass_csp=True
    )


async def an_application(browser: Browser, stack: LocalStack) -> tuple[str, str, list[Any]]:
    """A firm registered with one eligible application: its USCC, the page, its cookies."""
    uscc = make_uscc()
    sme = await context_at(browser, SIZES[0])
    page = await sme.new_page()
    await register(page, stack, uscc, "上海青浦无障碍测试有限公司")
    await fill_application(page, amount="200万")
    await page.click("#apply button[type=submit]")
    await page.wait_for_url(re.compile(r"/portal/applications/[0-9a-f-]{36}"))
    await expect(page.locator("#status")).to_have_text("符合条件", timeout=20_000)
    application, cookies = page.url.split("?")[0], await sme.cookies()
    await sme.close()
    return uscc, application, cookies


CONSOLE_PAGES = (
    ("/", "console-inbox"),
    ("/applications?q={uscc}", "console-search"),
    ("/applications/{application_id}", "console-application"),
    ("/enterprises", "console-enterprises"),
    ("/enterprises/{uscc}", "console-enterprise"),
    ("/batches", "console-batches"),
    ("/policies", "console-policies"),
    ("/periods", "console-periods"),
    ("/reports/subsidies", "console-subsidies"),
    ("/reports/exposure", "console-exposure"),
    ("/reports/three-way", "console-three-way"),
    ("/deliveries", "console-deliveries"),
    ("/reference-lists", "console-reference-lists"),
    ("/reference-lists/changes", "console-listing-changes"),
    ("/fact-reviews?tab=all", "console-fact-reviews"),
)


async def test_every_page_passes_axe_at_desktop_and_phone_width(
    browser: Browser, stack: LocalStack, stack_tokens: Tokens
) -> None:
    portal, console = stack.url("loan_intake") + "/portal", stack.url("bank_gateway") + "/console"
    uscc, application, cookies = await an_application(browser, stack)
    application_id = application.rsplit("/", 1)[1]
    with real_bank(stack, stack_tokens, "无障碍测试银行") as bank:  # a batch to look at
        open_batch(stack, stack_tokens, bank, [(uscc, application_id)])
    found: list[str] = []
    for size in SIZES:
        anonymous = await context_at(browser, size)
        for url, name in (
            (portal + "/login", "portal-login"),
            (portal + "/register", "portal-register"),
            (portal + "/password-reset", "portal-password-reset"),
            (console + "/login", "console-login"),
        ):
            found += await checked(anonymous, url, name)
        await anonymous.close()

        firm = await context_at(browser, size)
        await firm.add_cookies(cookies)
        for url, name in (
            (portal + "/applications", "portal-applications"),
            (portal + "/applications/new", "portal-apply"),
            (application, "portal-application"),
            (portal + "/messages", "portal-messages"),
        ):
            found += await checked(firm, url, name)
        await firm.close()

        alice = await signed_in_console(browser, stack, "alice", size)
        for path, name in CONSOLE_PAGES:
            url = console + path.format(uscc=uscc, application_id=application_id)
            found += await checked(alice, url, name)
        for listing, pattern, name in (
            ("/batches", r"/console/batches/[0-9a-f-]{36}", "console-batch"),
            ("/policies", r"/console/policies/[0-9a-f-]{36}", "console-policy"),
            ("/reference-lists", r"/console/reference-lists/[0-9a-f-]{36}", "console-list"),
        ):
            found += await checked(alice, await first_link(alice, console + listing, pattern), name)
        await alice.close()

        dave = await signed_in_console(browser, stack, "dave", size)
        for path, name in (("/claims", "fund-claims"), ("/fees", "fund-fees")):
            found += await checked(dave, console + path, name)
        await dave.close()
    assert not found, "\n".join(found)
