"""The policy as a clerk edits it in the console: fields under Chinese labels, money in 元
or 万, rates in %, checked as typed, refused edits kept, the diff in the same labels."""

import re
from html import unescape
from urllib.parse import urlencode

import httpx

from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in
from tests.conftest import asgi_client


async def test_a_clerk_edits_a_draft_field_by_field(desk: Desk) -> None:
    async with signed_in(desk, "alice") as alice:
        in_force = await alice.get(f"/console/policies/{desk.policy_version_id}")
        assert 'id="content"' in in_force.text  # the version's content, read-only
        assert "注册地须在青浦区 · 条件" in in_force.text
        copied = await alice.post(
            f"/console/policies/{desk.policy_version_id}/copy",
            content=urlencode({"_csrf": csrf_of(in_force), "note": "提高单户上限"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        draft = copied.headers["location"].split("?")[0]
        page = await alice.get(draft)
        assert 'id="structured"' in page.text and 'id="yaml-advanced"' in page.text
        csrf = csrf_of(page)

        async def post(path: str, **fields: str) -> httpx.Response:
            form = {**fields, "_csrf": csrf}
            return await alice.post(
                f"{draft}/{path}",
                content=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )

        # The whole form as the page shows it checks clean (every field reads back as it was).
        form = page.text[page.text.index('id="structured"') : page.text.index('id="yaml-advanced"')]
        shown = {
            unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form)
        }
        assert len(shown) > 50
        assert (await post("check", **shown)).json()["errors"] == {}

        broken = {"rules.0.when": "registered_district ==", "terms.default.max_amount": "1200万"}
        checked = (await post("check", **broken)).json()["errors"]
        assert list(checked) == ["rules.0.when"]
        assert checked["rules.0.when"].startswith("准入规则 · 注册地须在青浦区 · 条件：")
        refused = await post("structured", **broken)
        assert refused.status_code == 400 and "草稿未保存" in refused.text
        assert "准入规则 · 注册地须在青浦区 · 条件：" in refused.text
        assert 'value="1200万"' in refused.text  # the edits are kept
        bad_rate = await post("structured", **{"terms.default.coverage_ratio": "百分之八十"})
        assert "默认条款 · 担保比例：请填数字" in bad_rate.text

        saved = await post(
            "structured",
            **{"terms.default.max_amount": "1200万", "terms.default.coverage_ratio": "75"},
        )
        assert saved.status_code == 303 and "done=" in saved.headers["location"]
        policy_id = draft.rsplit("/", 1)[1]
        async with asgi_client(desk.guarantee_app, "http://guarantee") as guarantee:
            bureau = desk.tokens.header(desk.tokens.bureau())
            found = await guarantee.get(f"/v1/policies/{policy_id}", headers=bureau)
        document = found.json()["document"]
        assert document["terms"]["default"]["max_amount"] == "12000000.00"
        assert document["terms"]["default"]["coverage_ratio"] == "0.7500"
        after = await alice.get(draft)
        assert re.search(r"<td>默认条款 · 单户上限</td>", after.text)  # the diff, in labels
        assert 'value="75"' in after.text
