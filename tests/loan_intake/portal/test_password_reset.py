"""忘记密码: a code to the verified account's phone, a new password with it; nothing told to
whoever asks about a firm, a phone or an unverified account."""

import re
from pathlib import Path

from services.loan_intake.accounts import repository as accounts_repo
from services.loan_intake.accounts import service as accounts
from shared.outbound import FileSink
from tests.conftest import IntakeHarness, make_uscc
from tests.loan_intake.portal.test_pages import PASSWORD, applied, csrf_of, post_form, registered

NEW_PASSWORD = "Qingpu2027new"


async def verified(intake: IntakeHarness, uscc: str) -> None:
    async with intake.app.state.sessionmaker() as session:
        [account] = await accounts_repo.accounts_of(session=session, uscc=uscc, limit=5)
        assert account.id is not None
        await accounts.verify(
            session=session, account_id=account.id, uscc=uscc, how="区财政局核验营业执照"
        )
        await session.commit()


def codes_to(intake: IntakeHarness, phone: str) -> list[str]:
    sink = FileSink(Path(intake.app.state.settings.outbound_sink_path))
    found = [m for m in sink.sent() if m["to"] == phone and m["purpose"] == "password_reset"]
    return [re.search(r"验证码为 (\d{6})", m["text"]).group(1) for m in found]  # type: ignore[union-attr]


async def ask(intake: IntakeHarness, uscc: str, phone: str) -> str:
    page = await intake.client.get("/portal/password-reset")
    answer = await post_form(
        intake.client,
        "/portal/password-reset",
        {"_csrf": csrf_of(page), "uscc": uscc, "phone": phone},
    )
    assert answer.status_code == 200 and 'id="code-sent"' in answer.text
    return answer.text


async def test_a_verified_firm_resets_its_password_with_the_code_sent_to_its_phone(
    intake: IntakeHarness,
) -> None:
    uscc, phone = make_uscc(), "13800138000"
    await registered(intake.client, uscc)
    intake.client.cookies.clear()
    # Unverified: the same answer, nothing sent (other tests' firms share the phone).
    before = len(codes_to(intake, phone))
    await ask(intake, uscc, phone)
    assert len(codes_to(intake, phone)) == before
    await verified(intake, uscc)
    await ask(intake, uscc, "13900000000")  # not the registered phone: nothing sent
    assert len(codes_to(intake, phone)) == before
    form_page = await ask(intake, uscc, phone)
    [*_, code] = codes_to(intake, phone)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', form_page).group(1)  # type: ignore[union-attr]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"_csrf": csrf, "uscc": uscc, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    refused = await post_form(
        intake.client, "/portal/password-reset/confirm", {**body, "code": wrong}
    )
    assert refused.status_code == 400 and "验证码不正确或已过期" in refused.text
    weak = await post_form(
        intake.client,
        "/portal/password-reset/confirm",
        {**body, "code": code, "password": "short", "password_confirm": "short"},
    )
    assert weak.status_code == 400 and "至少 10 位" in weak.text
    done = await post_form(intake.client, "/portal/password-reset/confirm", {**body, "code": code})
    assert done.status_code == 303 and done.headers["location"] == "/portal/login?reset=1"
    again = await post_form(intake.client, "/portal/password-reset/confirm", {**body, "code": code})
    assert again.status_code == 400  # used once

    login = await intake.client.get("/portal/login")
    old = await post_form(
        intake.client,
        "/portal/login",
        {"_csrf": csrf_of(login), "uscc": uscc, "password": PASSWORD},
    )
    assert old.status_code == 401
    new = await post_form(
        intake.client,
        "/portal/login",
        {"_csrf": csrf_of(login), "uscc": uscc, "password": NEW_PASSWORD},
    )
    assert new.status_code == 303


async def test_the_firm_s_verified_phones_get_a_text_when_its_application_moves(
    intake: IntakeHarness,
) -> None:
    uscc, phone = make_uscc(), "13700137000"
    await registered(intake.client, uscc, phone=phone)
    await verified(intake, uscc)
    await intake.app.state.texter.step()  # whatever other tests left
    await applied(intake.client, uscc, "上海青浦短信测试有限公司")
    await intake.drain()
    await intake.app.state.texter.step()
    sink = FileSink(Path(intake.app.state.settings.outbound_sink_path))
    texts = [
        m["text"] for m in sink.sent() if m["to"] == phone and m["purpose"] == "status_changed"
    ]
    assert len(texts) == 1 and "有新进展：符合条件" in texts[0] and "QP-" in texts[0]
    await intake.app.state.texter.step()  # nothing new: nothing sent again
    assert len([m for m in sink.sent() if m["to"] == phone]) == 1
