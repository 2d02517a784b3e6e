"""The SME portal's plumbing, in process: cookies, CSRF, redirects, tenants, headers."""

import re
from urllib.parse import urlencode

import httpx
import pypdfium2

from tests.conftest import IntakeHarness, make_uscc

PASSWORD = "Qingpu2026pw"


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert match, "the form carries its CSRF token"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    return await client.post(
        path,
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def registered(
    client: httpx.AsyncClient,
    uscc: str,
    name: str = "上海青浦门户测试有限公司",
    phone: str = "13800138000",
) -> httpx.Response:
    page = await client.get("/portal/register")
    return await post_form(
        client,
        "/portal/register",
        {
            "_csrf": csrf_of(page),
            "uscc": uscc,
            "enterprise_name": name,
            "contact_name": "王经理",
            "contact_phone": phone,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )


async def applied(client: httpx.AsyncClient, uscc: str, name: str, **more: str) -> httpx.Response:
    """The signed-in firm fills in and sends the application form (¥2,000,000, 12 months);
    ``more`` adds or replaces fields (``**{"enterprise.flags.pending_lawsuit": "on"}``)."""
    form = await client.get("/portal/applications/new")
    return await post_form(
        client,
        "/portal/applications/new",
        {
            "_csrf": csrf_of(form),
            "idempotency_key": "k-" + uscc,
            "enterprise.name": name,
            "enterprise.registered_district": "青浦区",
            "enterprise.sector": "C",
            "enterprise.employees": "80",
            "enterprise.annual_revenue": "12000000.00",
            "enterprise.total_assets": "9000000.00",
            "enterprise.established_on": "2018-03-01",
            "enterprise.flags.high_tech": "on",
            "loan.amount": "2000000.00",
            "loan.term_months": "12",
            "loan.purpose": "购置生产设备",
            **more,
        },
    )


async def test_pages_carry_security_headers_and_a_strict_csrf_cookie(
    intake: IntakeHarness,
) -> None:
    page = await intake.client.get("/portal/login")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    cookie = page.headers["set-cookie"]
    assert "picidai_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    script = await intake.client.get("/portal/static/portal.js")
    assert script.status_code == 200 and "cache-control" not in script.headers


async def test_a_form_without_its_csrf_token_is_refused(intake: IntakeHarness) -> None:
    await intake.client.get("/portal/login")
    forged = await post_form(
        intake.client, "/portal/login", {"uscc": make_uscc(), "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert forged.json()["type"] == "/problems/csrf-failed"


async def test_register_sign_in_and_only_ones_own_applications(intake: IntakeHarness) -> None:
    uscc = make_uscc()
    done = await registered(intake.client, uscc)
    assert done.status_code == 303
    assert done.headers["location"] == "/portal/applications/new"
    session = next(c for c in done.headers.get_list("set-cookie") if "picidai_session=" in c)
    assert "HttpOnly" in session and "SameSite=lax" in session
    # A second person of the firm registers too: nothing tells them the firm was known.
    again = await registered(intake.client, uscc)
    assert again.status_code == 303 and "已注册" not in again.text

    submitted = await applied(intake.client, uscc, "上海青浦门户测试有限公司")
    assert submitted.status_code == 303, submitted.text
    own = submitted.headers["location"].split("?")[0]

    # Another enterprise, signed in on another browser, cannot see it.
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake.app), base_url="http://intake"
    )
    async with other:
        await registered(other, make_uscc(), name="上海另一家企业有限公司")
        foreign = await other.get(own)
        assert foreign.status_code == 404
        assert "上海青浦门户测试有限公司" not in foreign.text
    mine = await intake.client.get(own)
    assert mine.status_code == 200 and "上海青浦门户测试有限公司" in mine.text

    signed_out = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake.app), base_url="http://intake"
    )
    async with signed_out:
        bounced = await signed_out.get(own)
        assert bounced.status_code == 303
        assert bounced.headers["location"].startswith("/portal/login?next=/portal/applications/")
        login = await signed_out.get("/portal/login?next=//evil.example/x")
        assert 'name="next" value="/portal/applications"' in login.text  # no open redirect
        wrong = await post_form(
            signed_out,
            "/portal/login",
            {"_csrf": csrf_of(login), "uscc": uscc, "password": "not-the-password-1"},
        )
        assert wrong.status_code == 401 and "统一社会信用代码或密码不正确" in wrong.text


async def test_a_refusal_reads_as_findings_with_what_to_do_next(intake: IntakeHarness) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    lawsuit = {"enterprise.flags.pending_lawsuit": "on"}
    warned = await applied(intake.client, uscc, "上海青浦诉讼测试有限公司", **lawsuit)
    # 预审: not filed yet; told why, and that it may still be filed.
    assert warned.status_code == 200 and "尚未提交" in warned.text
    assert "企业存在影响偿债能力的未决诉讼" in warned.text and 'id="submit-anyway"' in warned.text
    sent = await applied(
        intake.client, uscc, "上海青浦诉讼测试有限公司", **lawsuit, submit_anyway="1"
    )
    assert sent.status_code == 303
    await intake.drain()
    page = await intake.client.get(sent.headers["location"].split("?")[0])
    assert '<span class="badge bad" id="status">不符合条件</span>' in page.text
    assert "评估发现" in page.text and "企业存在影响偿债能力的未决诉讼" in page.text
    assert "无影响偿债能力的未决诉讼" not in page.text  # the requirement reads as its opposite
    assert "情况变化后" in page.text  # what happens next
    assert re.search(r'id="application-number">QP-\d{4}-\d{6}<', page.text)
    # Chinese only: no English gloss in the history.
    timeline = page.text[page.text.index('id="timeline"') :]
    assert not re.search(r"\([a-z ]+\)", timeline)
    listed = await intake.client.get("/portal/applications")
    assert '<span class="badge bad">不符合条件</span>' in listed.text


async def test_amounts_typed_in_wan_caps_foreseen_and_the_next_form_prefilled(
    intake: IntakeHarness,
) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    over = await applied(
        intake.client, uscc, "上海青浦万元测试有限公司", **{"loan.amount": "3,200万"}
    )
    assert over.status_code == 200 and "尚未提交" in over.text
    assert "超过本企业适用的单户上限 ¥10,000,000.00" in over.text
    assert 'id="submit-anyway"' not in over.text  # a cap is fixed, not overridden
    assert 'value="3,200万"' in over.text  # what was typed is kept
    nonsense = await applied(
        intake.client, uscc, "上海青浦万元测试有限公司", **{"loan.amount": "五百万"}
    )
    assert nonsense.status_code == 400 and "不是金额" in nonsense.text
    sent = await applied(
        intake.client,
        uscc,
        "上海青浦万元测试有限公司",
        **{"loan.amount": "500万", "enterprise.total_liabilities": "3,000,000"},
    )
    assert sent.status_code == 303, sent.text
    page = await intake.client.get(sent.headers["location"])
    assert "¥5,000,000.00" in page.text
    again = await intake.client.get("/portal/applications/new")
    assert 'id="prefilled"' in again.text
    assert 'value="上海青浦万元测试有限公司"' in again.text
    assert 'value="3000000.00"' in again.text  # 负债总额 from the last application
    assert 'name="enterprise.flags.high_tech" checked' in again.text
    shown = (await intake.client.get("/portal/check/amount?value=500万")).json()
    assert shown == {"valid": True, "value": "5000000.00", "shown": "¥5,000,000.00（500万元）"}


async def test_checks_as_the_user_types(intake: IntakeHarness) -> None:
    good = (await intake.client.get(f"/portal/check/uscc?value={make_uscc()}")).json()
    assert good == {"valid": True, "message": "代码有效（青浦区登记）", "qingpu": True}
    bad = (await intake.client.get("/portal/check/uscc?value=914403001922038217")).json()
    assert bad["valid"] is False and "校验不通过" in bad["message"]
    # The right check character is never told: it would mint valid-looking codes.
    assert not any(c.isascii() and c.isalnum() for c in bad["message"])
    size = await intake.client.get(
        "/portal/check/size?sector=C&employees=80&revenue=12000000&assets=9000000"
    )
    assert size.json() == {"label": "工业 · 小型企业"}
    unknown = await intake.client.get("/portal/check/size?sector=ZZ&employees=1&revenue=1&assets=1")
    assert unknown.json() == {"label": ""}


async def test_guessing_a_password_is_stopped(intake: IntakeHarness) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake.app), base_url="http://intake"
    ) as guesser:
        login = await guesser.get("/portal/login")
        form = {"_csrf": csrf_of(login), "uscc": uscc, "password": "guess-123456"}
        for _ in range(5):
            assert (await post_form(guesser, "/portal/login", form)).status_code == 401
        stopped = await post_form(guesser, "/portal/login", {**form, "password": PASSWORD})
        assert stopped.status_code == 429 and "尝试次数过多" in stopped.text


async def test_a_weak_password_is_named_on_the_form(intake: IntakeHarness) -> None:
    page = await intake.client.get("/portal/register")
    form = {
        "_csrf": csrf_of(page),
        "uscc": make_uscc(),
        "enterprise_name": "上海青浦弱密码测试有限公司",
        "contact_name": "王经理",
        "contact_phone": "13800138000",
        "password": "short1",
        "password_confirm": "short1",
    }
    refused = await post_form(intake.client, "/portal/register", form)
    assert refused.status_code == 400 and "至少 10 位" in refused.text


async def test_an_eligible_firm_downloads_its_decision_letter(intake: IntakeHarness) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    sent = await applied(intake.client, uscc, "上海青浦意向函测试有限公司")
    await intake.drain()
    url = sent.headers["location"].split("?")[0]
    page = await intake.client.get(url)
    assert f'href="{url}/letter.pdf"' in page.text
    number = re.search(r'id="application-number">([^<]+)<', page.text)
    assert number
    letter = await intake.client.get(f"{url}/letter.pdf")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    assert "attachment" in letter.headers["content-disposition"]
    assert b"/FontFile" in letter.content  # the Chinese font travels with the file
    document = pypdfium2.PdfDocument(letter.content)
    text = "".join(p.get_textpage().get_text_range() for p in document)
    assert "担保意向函" in text and "上海青浦意向函测试有限公司" in text
    assert number.group(1) in text and "¥2,000,000.00" in text and "不构成担保合同" in text

    refused = await applied(
        intake.client,
        uscc,
        "上海青浦意向函测试有限公司",
        **{"enterprise.flags.phase_out_list": "on", "idempotency_key": "k2-" + uscc},
        submit_anyway="1",
    )
    await intake.drain()
    other = refused.headers["location"].split("?")[0]
    assert (await intake.client.get(f"{other}/letter.pdf")).status_code == 409


async def test_the_message_centre_tells_what_happened_and_counts_the_unread(
    intake: IntakeHarness,
) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    assert (await intake.client.get("/portal/messages/unread")).json() == {"unread": 0}
    await applied(intake.client, uscc, "上海青浦消息测试有限公司")
    await intake.drain()
    assert (await intake.client.get("/portal/messages/unread")).json() == {"unread": 1}
    page = await intake.client.get("/portal/messages")
    assert page.status_code == 200
    assert "未读" in page.text and "符合条件" in page.text and "担保评估" in page.text
    assert "企业在线提交申请" not in page.text  # one's own step is not news
    assert (await intake.client.get("/portal/messages/unread")).json() == {"unread": 0}
    again = await intake.client.get("/portal/messages")
    assert "未读" not in again.text.split('id="messages"')[1]


async def test_a_form_sent_twice_is_answered_with_the_first_filing(intake: IntakeHarness) -> None:
    """The 预审 must not count the first sending against the second (a double click)."""
    uscc = make_uscc()
    await registered(intake.client, uscc)
    first = await applied(
        intake.client, uscc, "上海青浦双击测试有限公司", **{"loan.amount": "800万"}
    )
    await intake.drain()
    again = await applied(
        intake.client, uscc, "上海青浦双击测试有限公司", **{"loan.amount": "800万"}
    )
    assert again.status_code == 303, again.text
    assert again.headers["location"].split("?")[0] == first.headers["location"].split("?")[0]
