"""申请复核: a firm whose 高新技术企业 certificate no list in force shows sends it from its
application page; an approver checks it in the console and accepts it; the firm's next
application is verified by the bureau's register. A rejection says why; the clerk without
the right to decide cannot."""

import re
from typing import Any

import httpx

from tests.bank_gateway.conftest import PDF, Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in
from tests.conftest import asgi_client, make_uscc
from tests.guarantee.factories import approved_list
from tests.loan_intake.portal.test_pages import applied, registered

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def assessed_page(desk: Desk, portal: httpx.AsyncClient, uscc: str) -> httpx.Response:
    sent = await applied(
        portal, uscc, "上海青浦复核测试有限公司", idempotency_key=make_uscc(), submit_anyway="1"
    )
    assert sent.status_code == 303, sent.text
    await desk.intake.drain()
    return await portal.get(sent.headers["location"])


async def ask_review(portal: httpx.AsyncClient, page: httpx.Response, **fields: str) -> Any:
    action = re.search(r'action="(/portal/applications/[^"]+/fact-reviews)"', page.text)
    assert action, "the page offers a request for review"
    return await portal.post(
        action.group(1),
        data={"_csrf": csrf_of(page), "flag": "high_tech", **fields},
        files={"file": ("高新证书.pdf", PDF, "application/pdf")},
    )


async def test_a_firm_asks_for_review_and_an_approver_accepts_its_certificate(
    desk: Desk,
) -> None:
    uscc = make_uscc()
    async with asgi_client(desk.intake.app, "http://intake") as portal:
        assert (await registered(portal, uscc)).status_code == 303
        page = await assessed_page(desk, portal, uscc)
        assert "名单中未见该企业" in page.text and "我是高新技术企业，申请复核" in page.text
        missing = await ask_review(portal, page, certificate_no="")
        shown = await portal.get(missing.headers["location"])
        assert "请填写证书编号" in shown.text
        asked = await ask_review(
            portal, page, certificate_no="GR202531000123", valid_to="2028-12-01"
        )
        shown = await portal.get(asked.headers["location"])
        assert "已申请复核“高新技术企业”" in shown.text
        assert "待财政局处理" in shown.text
        assert "我是高新技术企业，申请复核" not in shown.text  # one pending at a time
        application_url = asked.headers["location"].split("?")[0]

        async with signed_in(desk, "alice") as alice, signed_in(desk, "carol") as carol:
            queue = await alice.get("/console/fact-reviews")
            link = re.search(
                r'href="(/console/fact-reviews/[0-9a-f-]{36})"[^>]*>上海青浦复核', queue.text
            )
            assert link, queue.text
            seen = await alice.get(link.group(1))
            assert "GR202531000123" in seen.text and "未见于任何生效名单" in seen.text
            assert "须由有审批权限的工作人员处理" in seen.text  # alice may not decide
            certificate = re.search(r'href="([^"]+)" id="certificate"', seen.text)
            assert certificate and (await alice.get(certificate.group(1))).content == PDF
            page = await carol.get(link.group(1))
            decided = await carol.post(
                f"{link.group(1)}/acceptance",
                content=f"_csrf={csrf_of(page)}&valid_to=2028-12-01&note=%E8%AF%81%E4%B9%A6%E6%A0%B8%E5%AF%B9%E6%97%A0%E8%AF%AF",
                headers=FORM,
            )
            after = await carol.get(decided.headers["location"])
            assert "已通过：企业已列入财政局复核认定名单" in after.text
            assert "复核通过" in after.text

        shown = await portal.get(application_url)
        assert "复核通过" in shown.text and "此后的申请按此核验" in shown.text
        # The next application: verified by the bureau's register.
        again = await assessed_page(desk, portal, uscc)
        assert "高新技术企业：经《高新技术企业名单（财政局复核认定）》（青浦区财政局" in again.text


async def test_a_rejection_says_why_and_the_firm_may_ask_again(desk: Desk) -> None:
    uscc = make_uscc()
    async with asgi_client(desk.intake.app, "http://intake") as portal:
        await registered(portal, uscc)
        page = await assessed_page(desk, portal, uscc)
        asked = await ask_review(portal, page, certificate_no="GR2020-OLD")
        application_url = asked.headers["location"].split("?")[0]
        async with signed_in(desk, "carol") as carol:
            queue = await carol.get("/console/fact-reviews")
            link = re.search(
                r'href="(/console/fact-reviews/[0-9a-f-]{36})"[^>]*>上海青浦复核', queue.text
            )
            assert link
            page = await carol.get(link.group(1))
            bare = await carol.post(
                f"{link.group(1)}/rejection", content=f"_csrf={csrf_of(page)}&note=", headers=FORM
            )
            assert "未通过复核须写明原因" in (await carol.get(bare.headers["location"])).text
            why = "证书已过有效期"
            done = await carol.post(
                f"{link.group(1)}/rejection",
                content=f"_csrf={csrf_of(page)}&note={why}",
                headers=FORM,
            )
            assert "已退回企业" in (await carol.get(done.headers["location"])).text
        shown = await portal.get(application_url)
        assert f"财政局未认可：{why}" in shown.text
        assert "我是高新技术企业，申请复核" in shown.text  # may ask again


async def test_a_firm_a_barring_list_names_is_told_whom_to_ask(desk: Desk) -> None:
    """Not the bureau's to review: the list's issuer corrects it."""
    uscc = make_uscc()
    async with asgi_client(desk.guarantee_app, "http://guarantee") as fund:
        await approved_list(fund, desk.tokens, "dishonest_debtor", [uscc])
    async with asgi_client(desk.intake.app, "http://intake") as portal:
        await registered(portal, uscc)
        page = await assessed_page(desk, portal, uscc)
        assert "不符合批次贷条件" in page.text
        assert "请向名单的发布单位（如人民法院、区经济委员会）申请更正" in page.text
