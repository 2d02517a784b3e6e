"""The guarantee fund's claims desk in the console (issue 15): its reviewers sign in, find
the claim in their inbox, read the loan's whole life and the ceiling's room, decide — a
second person confirms the large ones — and record the payment; the bureau reads the same
page without the forms."""

import re
from urllib.parse import urlencode

import httpx

from shared.clock import shanghai_today
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in
from tests.bank_gateway.ledger.test_claim_review import claimed

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post(browser: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    """Submit a form of the page at ``url``; the page the redirect leads to."""
    page = await browser.get(url)
    sent = await browser.post(
        f"{url}/{fields.pop('step')}",
        content=urlencode({"_csrf": csrf_of(page), **fields}),
        headers=FORM,
    )
    assert sent.status_code == 303, sent.text
    return await browser.get(sent.headers["location"])


async def test_a_reviewer_decides_a_claim_a_second_confirms_and_it_is_paid(desk: Desk) -> None:
    loan_id, _, _ = await claimed(desk, "2000000.00")  # claimable 1,600,000: four eyes
    url = f"/console/claims/{loan_id}"
    async with signed_in(desk, "dave") as dave:
        landing = await dave.get("/console/")
        assert landing.status_code == 303 and landing.headers["location"].endswith("/claims")
        inbox = await dave.get("/console/claims")
        assert "担保基金工作台" in inbox.text and f'data-loan="{loan_id}"' in inbox.text
        assert "待审核" in inbox.text and "¥1,600,000.00" in inbox.text
        page = await dave.get(url)
        assert "按公式应代偿" in page.text and "¥1,600,000.00" in page.text
        assert "尚余空间" in page.text and "¥300,000.00" in page.text
        assert "须另一位有审批权限的人员复核" in page.text
        assert "违约" in page.text and "未偿本金 ¥2,000,000.00" in page.text  # its history
        assert "催收记录 · collection_records.pdf" in page.text and "尚缺必需材料" not in page.text
        link = re.search(r'href="(/console/claims/[^"]+/documents/[^"]+)"', page.text)
        assert link is not None
        paper = await dave.get(link.group(1))
        assert (
            paper.content.startswith(b"%PDF-")
            and "attachment" in paper.headers["content-disposition"]
        )
        taken = await post(dave, url, step="take")
        assert "已认领" in taken.text and "丁伟（担保基金审核）" in taken.text
        missing = await post(dave, url, step="decision", verdict="reduce", amount="1,000,000")
        assert 'class="alert"' in missing.text and "须写明理由" in missing.text
        recommended = await post(dave, url, step="decision", verdict="approve")
        assert "待复核" in recommended.text
        assert "提交审核意见" not in recommended.text
    assert not desk.bank.of_type("claim.decided")

    async with signed_in(desk, "erin") as erin:
        decided = await post(erin, url, step="second-review", agree="yes")
        assert "已同意，待支付" in decided.text
        # 1,600,000 allowed, the batch's ceiling (300,000) pays 300,000 now.
        assert "¥300,000.00" in decided.text and "因批次代偿上限暂未代偿" in decided.text
    await desk.deliver()
    assert [n["data"]["payout"] for n in desk.bank.of_type("claim.decided")] == ["300000.00"]

    async with signed_in(desk, "dave") as dave:
        today = shanghai_today().isoformat()
        paid = await post(
            dave, url, step="payments", amount="300000.00", paid_on=today, reference="PZ-0042"
        )
        assert "代偿支付已登记" in paid.text and "凭证号 PZ-0042" in paid.text
    await desk.deliver()
    [told] = desk.bank.of_type("claim.paid")
    assert (told["data"]["paid"], told["data"]["payment_reference"]) == ("300000.00", "PZ-0042")

    async with signed_in(desk, "alice") as alice:
        page = await alice.get(url)
        assert page.status_code == 200 and "已支付" in page.text
        assert "登记支付" not in page.text and "提交审核意见" not in page.text
        refused = await alice.post(
            f"{url}/take", content=urlencode({"_csrf": csrf_of(page)}), headers=FORM
        )
        assert "/console/login" in refused.headers["location"]  # the bureau does not decide
