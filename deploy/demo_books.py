"""A lived-in demo for ``make run``: over the running services' own APIs, a partner bank
lends to four Qingpu firms eight months ago, they repay monthly, one defaults and its bank
claims with its papers, the fund records fees received — so the console has fiscal periods
to close, a 拨付清单 with 贴息, and a claim waiting in the fund's inbox. Run once, on fresh
databases (deploy/local.py); nothing here runs in production."""

import copy
import json
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from services.loan_intake.demo import DEMO_APPLICATION
from shared.auth import APPROVE_PERMISSION, ISSUERS, Role, TokenIssuer
from shared.clock import add_months, shanghai_today, utcnow
from shared.uscc import check_character

FIRMS = [
    ("上海青浦精密机械有限公司", "91310118DM0000001", True),
    ("上海淀山湖食品有限公司", "91310118DM0000002", False),
    ("上海朱家角纺织科技有限公司", "91310118DM0000003", False),
    ("上海西虹桥物流有限公司", "91310118DM0000004", False),
]
PAPERS = ("accident_report", "collection_records", "loan_contract")
# A minimal well-formed PDF: the demo's stand-in for a bank's scanned papers.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Demo:
    def __init__(self, keys_dir: Path, urls: dict[str, str]) -> None:
        self.issuers = {
            n: TokenIssuer.from_keys_dir(keys_dir, issuer=n, ttl_seconds=3600) for n in ISSUERS
        }
        self.urls = urls
        self.http = httpx.Client(timeout=30)

    def token(self, issuer: str, subject: str, role: Role, **kw: Any) -> dict[str, str]:
        token = self.issuers[issuer].issue(subject=subject, role=role, **kw)
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, service: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        answer = self.http.request(method, self.urls[service] + path, headers=headers, **kw)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def until(self, check: Any, what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.3)
        raise RuntimeError(f"demo: {what} did not happen in {timeout:.0f} s")


def _application(name: str, uscc: str, special: bool) -> dict[str, Any]:
    body = copy.deepcopy(DEMO_APPLICATION)
    body["enterprise"].update(name=name, uscc=uscc)
    body["enterprise"]["flags"] = {"specialized_new": special, "high_tech": True}
    body["loan"]["amount"] = "2000000.00"
    return body


def _eligible(demo: Demo) -> list[str]:
    ids = []
    for name, first17, special in FIRMS:
        uscc = first17 + check_character(first17)
        sme = demo.token("loan_intake", uscc, Role.SME, tenant=uscc)
        sent = demo.call(
            "POST",
            "loan_intake",
            "/v1/applications",
            {**sme, "Idempotency-Key": f"demo-books-{uscc}"},
            json=_application(name, uscc, special),
        )
        ids.append((sent["id"], sme))
    for application_id, sme in ids:
        demo.until(
            lambda a=application_id, h=sme: (
                demo.call("GET", "loan_intake", f"/v1/applications/{a}", h)["status"] == "eligible"
            ),
            "an assessment",
        )
    return [a for a, _ in ids]


def _open_batch(demo: Demo, bank: str, applications: list[str], today: date) -> str:
    alice = demo.token("bank_gateway", "alice", Role.BUREAU)
    carol = demo.token("bank_gateway", "carol", Role.BUREAU, permissions={APPROVE_PERMISSION})
    policy = demo.call("GET", "guarantee", "/v1/policies/in-force", alice)
    batch = demo.call(
        "POST",
        "bank_gateway",
        "/v1/batches",
        alice,
        json={
            "bank_code": bank,
            "name": "2026年青浦区批次贷（第一批）",
            "quota": "20000000.00",
            "valid_from": (today - timedelta(days=365)).isoformat(),
            "valid_to": (today + timedelta(days=180)).isoformat(),
            "policy_version_id": policy["id"],
        },
    )
    base = f"/v1/batches/{batch['id']}"
    demo.call(
        "POST", "bank_gateway", base + "/allocations", alice, json={"application_ids": applications}
    )
    demo.call("POST", "bank_gateway", base + "/submission", alice)
    demo.call("POST", "bank_gateway", base + "/approval", carol)
    demo.call("POST", "bank_gateway", base + "/opening", alice)
    return str(batch["id"])


def _bank(demo: Demo) -> dict[str, Any]:
    admin = demo.token("bank_gateway", "admin", Role.ADMIN)
    return demo.call(
        "POST",
        "bank_gateway",
        "/v1/banks",
        admin,
        json={"code": "qprcb", "name": "青浦演示农商银行"},
    )


def signed_headers(token: str, secret: str, body: str) -> dict[str, str]:
    """What a bank sends with a callback: its bearer token and the Standard Webhooks
    signature of the body."""
    msg_id, now = f"msg_{uuid.uuid4().hex}", utcnow()
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


def _bank_token(demo: Demo, bank: dict[str, Any]) -> str:
    return str(
        demo.http.post(
            demo.urls["bank_gateway"] + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(bank["client_id"], bank["client_secret"]),
        ).json()["access_token"]
    )


def _send(demo: Demo, bank: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """The bank's events, signed (Standard Webhooks), in bulk."""
    body = json.dumps({"events": events}, ensure_ascii=False)
    answer = demo.http.post(
        demo.urls["bank_gateway"] + "/v1/bank/events/bulk",
        content=body.encode(),
        headers=signed_headers(_bank_token(demo, bank), bank["signing_secret"], body),
    ).json()
    if answer["refused"]:
        raise RuntimeError(f"demo: the gateway refused bank events: {answer}")


def _lives(loans: list[str], lent: date, today: date) -> list[dict[str, Any]]:
    """Lent eight months ago at 3.85 %; interest of ¥6,000 each month (within a month's
    ¥6,416 at that rate), the last firm's loan overdue from its fourth month and declared in
    default 90 days after."""

    def event(kind: str, loan: str, n: int, **data: Any) -> dict[str, Any]:
        return {"id": f"demo-{loan}-{n}", "type": kind, "data": {"loan_id": loan, **data}}

    events = []
    for i, loan in enumerate(loans):
        events += [
            event(
                "loan.approved",
                loan,
                0,
                approved_amount="2000000.00",
                annual_interest_rate="0.0385",
                approved_on=lent.isoformat(),
            ),
            event(
                "loan.disbursed",
                loan,
                1,
                amount="2000000.00",
                disbursed_on=lent.isoformat(),
                maturity_on=add_months(lent, 12).isoformat(),
            ),
        ]
        months = 3 if i == len(loans) - 1 else 7
        for m in range(1, months + 1):
            paid_on = add_months(lent, m)
            if paid_on < today:
                events.append(
                    event(
                        "loan.repayment",
                        loan,
                        1 + m,
                        principal="0.00",
                        interest="6000.00",
                        paid_on=paid_on.isoformat(),
                    )
                )
    defaulting = loans[-1]
    since = add_months(lent, 4)
    events += [
        event(
            "loan.overdue", defaulting, 20, overdue_principal="2000000.00", since=since.isoformat()
        ),
        event(
            "loan.defaulted",
            defaulting,
            21,
            outstanding_principal="2000000.00",
            interest_due="15000.00",
            defaulted_on=(since + timedelta(days=92)).isoformat(),
        ),
        event(
            "claim.submitted",
            defaulting,
            22,
            outstanding_principal="2000000.00",
            interest_due="15000.00",
            submitted_on=(since + timedelta(days=95)).isoformat(),
        ),
    ]
    return events


def seed_books(keys_dir: Path, urls: dict[str, str]) -> str:
    """The lived-in demo; what it did, in a line."""
    demo = Demo(keys_dir, urls)
    today = shanghai_today()
    lent = add_months(date(today.year, today.month, 1), -8) + timedelta(days=9)
    applications = _eligible(demo)
    bank = _bank(demo)
    batch_id = _open_batch(demo, bank["bank"]["code"], applications, today)
    alice = demo.token("bank_gateway", "alice", Role.BUREAU)
    listed = demo.call("GET", "bank_gateway", f"/v1/batches/{batch_id}/loans", alice)["items"]
    order = {a: i for i, a in enumerate(applications)}
    loans = [x["id"] for x in sorted(listed, key=lambda x: order[x["application_id"]])]
    _send(demo, bank, _lives(loans, lent, today))
    fund = demo.token("bank_gateway", "dave", Role.FUND)
    demo.until(
        lambda: all(
            demo.http.get(f"{urls['guarantee']}/v1/guarantees/{loan}", headers=alice).status_code
            == 200
            for loan in loans
        ),
        "备案 of the demo loans",
    )
    for loan in loans[:2]:  # two firms have paid their share of the fee
        first = demo.call("GET", "guarantee", f"/v1/guarantees/{loan}", alice)["schedule"][0]
        demo.call(
            "POST",
            "guarantee",
            f"/v1/guarantees/{loan}/fee-collections",
            fund,
            json={
                "period_from": first["period_from"],
                "amount": first["payable"],
                "collected_on": (lent + timedelta(days=5)).isoformat(),
                "reference": f"SK-DEMO-{loan[:8]}",
            },
        )
    bank_token = _bank_token(demo, bank)
    demo.until(
        lambda: (
            demo.http.get(f"{urls['guarantee']}/v1/claims/{loans[-1]}", headers=fund).status_code
            == 200
        ),
        "the demo claim reaching the fund",
    )
    for kind in PAPERS:
        demo.http.post(
            f"{urls['bank_gateway']}/v1/bank/loans/{loans[-1]}/claim-documents",
            params={"kind": kind, "filename": f"{kind}.pdf"},
            content=PDF + kind.encode(),
            headers={"Authorization": f"Bearer {bank_token}", "Content-Type": "application/pdf"},
        ).raise_for_status()
    named = _courts_name_a_firm(demo, today)
    return (
        f"demo books: 4 loans of 青浦演示农商银行 lent {lent}, repaying monthly; one defaulted "
        "and claimed (in the fund's inbox); fiscal periods to close at /console/periods; "
        f"{named} since named by the courts (/console/reference-lists/changes)"
    )


def _courts_name_a_firm(demo: Demo, today: date) -> str:
    """After the loans, the courts' 失信被执行人 list names one of the firms: imported by a
    clerk, approved by another — the console flags the firm with its 在保余额."""
    name, stem, _ = FIRMS[2]
    uscc = stem + check_character(stem)
    alice = demo.token("bank_gateway", "alice", Role.BUREAU)
    carol = demo.token("bank_gateway", "carol", Role.BUREAU, permissions={APPROVE_PERMISSION})
    made = demo.call(
        "POST",
        "guarantee",
        "/v1/reference-lists/files",
        {**alice, "Content-Type": "text/csv"},
        params={
            "kind": "dishonest_debtor",
            "issuer": "最高人民法院",
            "batch": f"{today:%Y年%m月}更新（演示）",
            "title": "全国法院失信被执行人名单（青浦区企业，演示）",
            "filename": "失信被执行人名单.csv",
        },
        content=f"序号,统一社会信用代码,企业名称\n1,{uscc},{name}\n".encode(),
    )
    kept = made["list"]["id"]
    demo.call(
        "POST",
        "guarantee",
        f"/v1/reference-lists/{kept}/submission",
        alice,
        json={"effective_from": today.isoformat()},
    )
    demo.call("POST", "guarantee", f"/v1/reference-lists/{kept}/approval", carol, json={})
    return name
