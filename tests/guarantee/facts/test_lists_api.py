"""Reference lists through the API, as the bureau's clerks use them: a preview first, a bad
row named and nothing imported, the same file twice once, Excel and GBK files, columns named
by hand, four eyes; and assessments that go by what the lists show."""

import io
import uuid
from typing import Any

import httpx
from openpyxl import Workbook

from tests.conftest import Tokens, make_uscc
from tests.guarantee.factories import approved_list, list_file, make_request

CSV = {"Content-Type": "text/csv"}


def params(**more: Any) -> dict[str, Any]:
    return {
        "kind": "specialized_new",
        "issuer": "上海市经济和信息化委员会",
        "batch": f"2026年第{uuid.uuid4().hex[:4]}批",
        "title": "2026年上海市专精特新中小企业名单",
        "filename": "专精特新名单.csv",
        **more,
    }


async def lists_count(client: httpx.AsyncClient, alice: dict[str, str]) -> int:
    return int((await client.get("/v1/reference-lists", headers=alice)).json()["total"])


async def test_a_bad_row_is_named_and_nothing_is_imported_the_preview_shows_it_first(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    alice = tokens.header(tokens.bureau("alice"))
    good = [make_uscc() for _ in range(3)]
    body = list_file(good).decode() + "4,91310118MA1JL0000Y,写错校验位的企业\n5,,\n"
    before = await lists_count(guarantee_client, alice)
    preview = await guarantee_client.post(
        "/v1/reference-lists/files",
        params=params(dry_run=True),
        content=body.encode(),
        headers={**alice, **CSV},
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["columns"] == {"uscc": "统一社会信用代码", "name": "企业名称"}
    assert [e["uscc"] for e in shown["sample"]] == good and shown["rows"] == 5
    assert {(b["row"], b["column"]) for b in shown["bad_rows"]} == {
        (5, "统一社会信用代码"),
        (6, "统一社会信用代码"),
        (6, "企业名称"),
    }
    assert "校验不通过" in shown["bad_rows"][0]["finding"]
    refused = await guarantee_client.post(
        "/v1/reference-lists/files",
        params=params(),
        content=body.encode(),
        headers={**alice, **CSV},
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "/problems/reference-list-invalid"
    assert "2 行有误，未导入任何一行" in problem["detail"]
    assert any(e["message"].startswith("第 5 行“统一社会信用代码”") for e in problem["errors"])
    assert await lists_count(guarantee_client, alice) == before


async def test_the_same_file_twice_is_one_list_and_excel_gbk_and_named_columns_read_alike(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    alice = tokens.header(tokens.bureau("alice"))
    firms = [make_uscc() for _ in range(2)]
    same = params()
    first = await guarantee_client.post(
        "/v1/reference-lists/files", params=same, content=list_file(firms), headers={**alice, **CSV}
    )
    again = await guarantee_client.post(
        "/v1/reference-lists/files", params=same, content=list_file(firms), headers={**alice, **CSV}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["list"]["id"] == first.json()["list"]["id"]
    # The same entries as an Excel workbook, in another order: the same list.
    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "统一社会信用代码"])
    for i, uscc in reversed(list(enumerate(firms, 1))):
        sheet.append([f"测试企业{i}", uscc])
    buffer = io.BytesIO()
    book.save(buffer)
    excel = await guarantee_client.post(
        "/v1/reference-lists/files",
        params={**same, "filename": "名单.xlsx"},
        content=buffer.getvalue(),
        headers={**alice, "Content-Type": "application/octet-stream"},
    )
    assert excel.status_code == 200 and excel.json()["list"]["id"] == first.json()["list"]["id"]
    # A GBK file whose headers are the issuer's own, mapped by hand.
    text = "单位代码,单位全称\n" + "".join(f"{u},测试企业{i}\n" for i, u in enumerate(firms, 1))
    mapped = await guarantee_client.post(
        "/v1/reference-lists/files",
        params={**same, "uscc_column": "单位代码", "name_column": "单位全称"},
        content=text.encode("gbk"),
        headers={**alice, **CSV},
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["list"]["id"] == first.json()["list"]["id"]
    unmapped = await guarantee_client.post(
        "/v1/reference-lists/files",
        params=same,
        content=text.encode("gbk"),
        headers={**alice, **CSV},
    )
    assert unmapped.status_code == 422
    assert "找不到“统一社会信用代码、企业名称”列" in unmapped.json()["detail"]
    # Previewed, the same file shows its header to map from, and what is missing.
    preview = await guarantee_client.post(
        "/v1/reference-lists/files",
        params={**same, "dry_run": True},
        content=text.encode("gbk"),
        headers={**alice, **CSV},
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert (shown["headers"], shown["missing_columns"]) == (
        ["单位代码", "单位全称"],
        ["uscc", "name"],
    )


async def test_the_importer_may_not_approve_and_a_list_counts_only_once_approved(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    alice = tokens.header(tokens.bureau("dora", approver=True))  # no console account: kept
    carol = tokens.header(tokens.bureau("carol", approver=True))
    firm = make_uscc()
    imported = await guarantee_client.post(
        "/v1/reference-lists/files",
        params=params(),
        content=list_file([firm]),
        headers={**alice, **CSV},
    )
    list_id = imported.json()["list"]["id"]
    url = f"/v1/reference-lists/{list_id}"
    submitted = await guarantee_client.post(
        f"{url}/submission", json={"effective_from": "2026-01-01"}, headers=alice
    )
    assert submitted.json()["status"] == "pending_approval"
    facts = await guarantee_client.get(
        "/v1/reference-lists/facts", params={"uscc": firm, "on": "2026-11-25"}, headers=alice
    )
    assert {f["flag"]: f["standing"] for f in facts.json()["facts"]}["specialized_new"] == "absent"
    own = await guarantee_client.post(f"{url}/approval", json={}, headers=alice)
    assert own.status_code == 403 and own.json()["type"] == "/problems/four-eyes-required"
    approved = await guarantee_client.post(
        f"{url}/approval", json={"note": "核对无误"}, headers=carol
    )
    assert approved.status_code == 200 and approved.json()["in_force_today"]
    facts = await guarantee_client.get(
        "/v1/reference-lists/facts", params={"uscc": firm, "on": "2026-11-25"}, headers=alice
    )
    [special] = [f for f in facts.json()["facts"] if f["flag"] == "specialized_new"]
    assert (
        special["standing"] == "verified"
        and special["source"]["id" if False else "list_id"] == list_id
    )
    entries = await guarantee_client.get(f"{url}/entries", params={"q": firm[:10]}, headers=alice)
    assert [e["uscc"] for e in entries.json()["items"]] == [firm]


async def assessed(client: httpx.AsyncClient, tokens: Tokens, uscc: str, **flags: bool) -> Any:
    request = make_request(
        enterprise__uscc=uscc, enterprise__flags=flags, loan__amount="12000000.00"
    )
    answer = await client.post(
        "/v1/assessments",
        json=request.model_dump(mode="json"),
        headers=tokens.header(tokens.service("loan_intake")),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_declared_benefit_counts_only_when_a_list_shows_it_and_a_listed_bar_refuses(
    guarantee_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """¥12,000,000 is above the ordinary cap of ¥10,000,000 and within 专精特新's ¥30,000,000."""
    declared_only, listed, dishonest = make_uscc(), make_uscc(), make_uscc()
    await approved_list(guarantee_client, tokens, "specialized_new", [listed])
    await approved_list(guarantee_client, tokens, "dishonest_debtor", [dishonest])

    alone = await assessed(guarantee_client, tokens, declared_only, specialized_new=True)
    assert alone["decision"] == "ineligible"  # the ordinary cap applied
    [finding] = [r for r in alone["reasons"] if r["code"] == "fact.specialized_new"]
    assert "评估日生效的名单中未见该企业，本次按未申报评估" in finding["finding_zh"]

    verified = await assessed(guarantee_client, tokens, listed, specialized_new=True)
    assert verified["decision"] == "eligible"
    [shown] = [r for r in verified["reasons"] if r["code"] == "fact.specialized_new"]
    assert shown["passed"] and "经《测试名单》（上海市经济和信息化委员会" in shown["message_zh"]

    barred = await assessed(guarantee_client, tokens, dishonest)
    assert barred["decision"] == "ineligible"
    [bar] = [r for r in barred["reasons"] if r["code"] == "fact.bad_credit_2y"]
    assert not bar["passed"] and "申请未申报此项，但企业在《测试名单》" in bar["finding_zh"]

    # The trace keeps each fact's source; a replay gives the same answer.
    bureau = tokens.header(tokens.bureau())
    stored = (
        await guarantee_client.get(f"/v1/assessments/{verified['assessment_id']}", headers=bureau)
    ).json()
    [fact] = [f for f in stored["trace"]["facts"] if f["flag"] == "specialized_new"]
    assert fact["standing"] == "verified" and fact["source"]["title"] == "测试名单"
    replay = await guarantee_client.get(
        f"/v1/assessments/{verified['assessment_id']}/replay", headers=bureau
    )
    assert replay.json()["identical"] is True, replay.text
