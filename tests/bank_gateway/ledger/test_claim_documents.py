"""A claim's papers (issue 15): the bank uploads them through the gateway — PDF, JPEG or PNG,
recognised by content, bounded in size, of the policy's kinds, on its own loans only — the
guarantee fund keeps them, its reviewers read them as downloads, and a claim is approved or
reduced only once every required paper is there."""

import hashlib
from typing import Any

from tests.bank_gateway.conftest import PDF, REQUIRED_PAPERS, Desk
from tests.bank_gateway.ledger.test_claims import claim, default, disbursed_loans
from tests.bank_gateway.ledger.test_events import Bank, event, repayment
from tests.conftest import asgi_client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(
    desk: Desk, bank: Bank, loan_id: str, kind: str, content: bytes, content_type: str
) -> Any:
    return await desk.gateway.post(
        f"/v1/bank/loans/{loan_id}/claim-documents",
        params={"kind": kind, "filename": f"../../etc/{kind}\x07.pdf"},
        content=content,
        headers={"Authorization": f"Bearer {bank.token}", "Content-Type": content_type},
    )


async def test_papers_are_checked_kept_and_required_before_approval(desk: Desk) -> None:
    bank, (loan_id,), _ = await disbursed_loans(desk, 1)
    await bank.send(event("loan.repayment", loan_id, **repayment("1900000.00")))
    await default(bank, loan_id, "100000.00")
    await bank.send(claim(loan_id, "100000.00", "0.00"))
    await desk.deliver()

    kept = await upload(desk, bank, loan_id, "collection_records", PDF, "application/pdf")
    assert kept.status_code == 201, kept.text
    paper = kept.json()
    assert (paper["kind_zh"], paper["content_type"], paper["size"]) == (
        "催收记录",
        "application/pdf",
        len(PDF),
    )
    assert paper["filename"] == "collection_records.pdf"  # a label: no path, no control
    assert paper["sha256"] == hashlib.sha256(PDF).hexdigest()
    again = await upload(desk, bank, loan_id, "collection_records", PDF, "application/pdf")
    assert (again.status_code, again.json()["id"]) == (200, paper["id"])

    disguised = await upload(
        desk, bank, loan_id, "accident_report", b"MZ\x90\x00", "application/pdf"
    )
    assert (disguised.status_code, disguised.json()["type"]) == (
        415,
        "/problems/claim-document-type",
    )
    mislabelled = await upload(desk, bank, loan_id, "accident_report", PNG, "application/pdf")
    assert "声明 application/pdf，内容为 image/png" in mislabelled.json()["detail"]
    unknown = await upload(desk, bank, loan_id, "selfie", PNG, "image/png")
    assert (
        unknown.status_code == 422 and "court_papers（诉讼或仲裁文书）" in unknown.json()["detail"]
    )
    huge = await upload(
        desk, bank, loan_id, "court_papers", PDF + b"0" * (10 * 1024 * 1024), "application/pdf"
    )
    assert (huge.status_code, huge.json()["type"]) == (413, "/problems/payload-too-large")
    stranger_code = await desk.register_bank()
    stranger = Bank(desk, stranger_code)
    await stranger.sign_in()
    foreign = await upload(desk, stranger, loan_id, "court_papers", PDF, "application/pdf")
    assert (foreign.status_code, foreign.json()["type"]) == (404, "/problems/loan-not-found")

    fund = desk.tokens.header(desk.tokens.fund("fund-dave"))
    async with asgi_client(desk.guarantee_app, "http://guarantee") as guarantee:
        room = (await guarantee.get(f"/v1/claims/{loan_id}/room", headers=fund)).json()
        assert room["documents_missing"] == ["代偿申请书及事故报告书", "借款合同及借据"]
        early = await guarantee.post(
            f"/v1/claims/{loan_id}/decision", json={"verdict": "approve"}, headers=fund
        )
        assert early.status_code == 422
        assert (
            "缺少必需的代偿材料：代偿申请书及事故报告书、借款合同及借据" in early.json()["detail"]
        )
        listed = (await guarantee.get(f"/v1/claims/{loan_id}/documents", headers=fund)).json()
        assert [d["kind"] for d in listed] == ["collection_records"]
        download = await guarantee.get(
            f"/v1/claims/{loan_id}/documents/{paper['id']}", headers=fund
        )
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
    for kind in REQUIRED_PAPERS:
        sent = await upload(desk, bank, loan_id, kind, PDF + kind.encode(), "application/pdf")
        assert sent.status_code in (200, 201), sent.text
    decided = await desk.decide_claim(loan_id)
    assert (decided["status"], decided["payout"]) == ("approved", "80000.00")
