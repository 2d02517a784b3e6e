"""A firm's papers: recognised by content, kept once, read only by who reads the application."""

import re
from typing import Any

import pytest

from tests.conftest import IntakeHarness, Tokens, application_body, make_uscc
from tests.loan_intake.portal.test_pages import applied, registered

pytestmark = pytest.mark.asyncio

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def filed(intake: IntakeHarness, tokens: Tokens) -> tuple[str, str, dict[str, str]]:
    uscc = make_uscc()
    headers = tokens.header(tokens.sme(uscc))
    created = await intake.client.post(
        "/v1/applications", json=application_body(uscc), headers=headers
    )
    return uscc, created.headers["Location"], headers


async def send(
    intake: IntakeHarness, url: str, headers: dict[str, str], body: bytes, **q: Any
) -> Any:
    params = {"kind": "business_licence", "filename": "营业执照.pdf", **q}
    return await intake.client.post(
        f"{url}/documents",
        params=params,
        content=body,
        headers={**headers, "Content-Type": "application/pdf"},
    )


async def test_papers_are_checked_by_content_kept_once_and_read_by_their_readers(
    intake: IntakeHarness, tokens: Tokens
) -> None:
    _, url, sme = await filed(intake, tokens)
    first = await send(intake, url, sme, PDF, filename="../../etc/营业执照.pdf")
    assert first.status_code == 201, first.text
    kept = first.json()
    assert (kept["kind_zh"], kept["filename"], kept["content_type"]) == (
        "营业执照",
        "营业执照.pdf",
        "application/pdf",
    )
    again = await send(intake, url, sme, PDF)
    assert again.status_code == 200 and again.json()["id"] == kept["id"]
    # A script named like a PDF, a PNG declared as a PDF: refused by their content.
    fake = await send(intake, url, sme, b"<script>alert(1)</script>")
    assert fake.status_code == 415 and fake.json()["type"].endswith("application-document-type")
    mislabelled = await send(intake, url, sme, PNG)
    assert mislabelled.status_code == 415
    wrong_kind = await send(intake, url, sme, PDF, kind="passport")
    assert wrong_kind.status_code == 422 and "营业执照" in wrong_kind.json()["detail"]

    stranger = tokens.header(tokens.sme(make_uscc()))
    assert (await send(intake, url, stranger, PDF)).status_code == 404
    assert (await intake.client.get(f"{url}/documents", headers=stranger)).status_code == 404
    for reader in (
        sme,
        tokens.header(tokens.bureau()),
        tokens.header(tokens.service("bank_gateway")),
    ):
        listed = await intake.client.get(f"{url}/documents", headers=reader)
        assert [d["id"] for d in listed.json()] == [kept["id"]]
    download = await intake.client.get(f"{url}/documents/{kept['id']}", headers=sme)
    assert download.content == PDF
    assert download.headers["content-security-policy"] == "sandbox"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_the_firm_uploads_its_papers_on_its_application_page(intake: IntakeHarness) -> None:
    uscc = make_uscc()
    await registered(intake.client, uscc)
    sent = await applied(intake.client, uscc, "上海青浦材料测试有限公司")
    page_url = sent.headers["location"].split("?")[0]
    page = await intake.client.get(page_url)
    csrf = re.search(r'id="upload">\s*<input type="hidden" name="_csrf" value="([^"]+)"', page.text)
    assert csrf, "the upload form carries its CSRF token"
    form = {"_csrf": csrf.group(1), "kind": "financial_statements"}
    files = {"file": ("2025年报.pdf", PDF, "application/pdf")}
    done = await intake.client.post(f"{page_url}/documents", data=form, files=files)
    assert done.status_code == 303 and "document=uploaded" in done.headers["location"]
    page = await intake.client.get(page_url)
    assert "财务报表" in page.text and "2025年报.pdf" in page.text
    link = re.search(r'href="(/portal/applications/[^"]+/documents/[0-9a-f-]{36})"', page.text)
    assert link and (await intake.client.get(link.group(1))).content == PDF
    forged = await intake.client.post(f"{page_url}/documents", data={"kind": "other"}, files=files)
    assert forged.status_code == 403
    not_a_pdf = {"file": ("x.pdf", b"MZ\x90\x00", "application/pdf")}
    refused = await intake.client.post(f"{page_url}/documents", data=form, files=not_a_pdf)
    assert refused.status_code == 415 and "只接受 PDF、JPG 或 PNG" in refused.text
