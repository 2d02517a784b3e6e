"""10,000 signed bank events through the bulk form, on PostgreSQL, end to end.

    .venv/bin/python -m bench.callbacks_load [--loans 2000]

Starts the three services on fresh PostgreSQL databases, then (setup, not timed) submits
``--loans`` applications, waits until they are assessed, drafts, fills, approves and
opens a batch for a newly registered bank. Timed: the bank sends, for every loan,
approval, disbursal and three repayments (5 events per loan) as bulk requests of 1,000
events, each signed per Standard Webhooks, one after another — as a bank's nightly batch
would. Prints the seconds and events/s (target: 10,000 events ≤ 5 s), then how long until
loan_intake has every loan's last change. Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import json
import signal
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from bench import report
from bench.intake_load import SERVER, create_databases, drop_databases, rss_mb
from bench.profile import record, summarise
from deploy.local import SERVICES, LocalStack, free_port
from shared.clock import shanghai_today
from tests.conftest import Tokens, application_body, make_uscc

BULK = 1000


async def submit_all(client: httpx.AsyncClient, tokens: Tokens, count: int) -> list[str]:
    ids: list[str] = []
    semaphore = asyncio.Semaphore(16)

    async def one() -> None:
        uscc = make_uscc()
        async with semaphore:
            response = await client.post(
                "/v1/applications",
                json=application_body(uscc),
                headers=tokens.header(tokens.sme(uscc)),
            )
        response.raise_for_status()
        ids.append(response.json()["id"])

    await asyncio.gather(*(one() for _ in range(count)))
    return ids


def signed(token: str, secret: str, payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return body.encode(), {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


@dataclass
class OpenBatch:
    """A bank registered for the run, signed in, with a batch of loans open."""

    bank: dict[str, Any]
    token: str
    loans: list[str]


async def open_batch(
    stack: LocalStack, intake: httpx.AsyncClient, gateway: httpx.AsyncClient, loans_wanted: int
) -> OpenBatch:
    """Setup, not timed: applications submitted and assessed, a bank registered, a batch
    drafted, filled, approved and opened, the bank's token."""
    tokens = Tokens(stack.keys_dir)
    today = shanghai_today()
    started = time.perf_counter()
    applications = await submit_all(intake, tokens, loans_wanted)
    bureau = tokens.header(tokens.bureau("alice"))
    while True:
        page = await intake.get("/v1/applications?status=assessing&page_size=1", headers=bureau)
        if page.json()["total"] == 0:
            break
        await asyncio.sleep(0.5)
    print(
        f"  {len(applications):,} applications submitted and assessed "
        f"({time.perf_counter() - started:.1f} s)"
    )
    code = f"b{uuid.uuid4().hex[:8]}"
    bank = (
        await gateway.post(
            "/v1/banks",
            json={"code": code, "name": "基准测试银行"},
            headers=tokens.header(tokens.admin()),
        )
    ).json()
    async with httpx.AsyncClient(base_url=stack.url("guarantee")) as guarantee:
        policy = (await guarantee.get("/v1/policies/in-force", headers=bureau)).json()
    batch = (
        await gateway.post(
            "/v1/batches",
            json={
                "bank_code": code,
                "name": "基准批次",
                "quota": "100000000000.00",
                "valid_from": (today - timedelta(days=365)).isoformat(),  # lives began 120 d ago
                "valid_to": (today + timedelta(days=365)).isoformat(),
                "policy_version_id": policy["id"],
            },
            headers=bureau,
        )
    ).json()
    base = f"/v1/batches/{batch['id']}"
    for i in range(0, len(applications), 200):
        response = await gateway.post(
            f"{base}/allocations",
            json={"application_ids": applications[i : i + 200]},
            headers=bureau,
        )
        response.raise_for_status()
    await gateway.post(f"{base}/submission", headers=bureau)
    await gateway.post(
        f"{base}/approval", headers=tokens.header(tokens.bureau("carol", approver=True))
    )
    await gateway.post(f"{base}/opening", headers=bureau)
    loans: list[str] = []
    while True:
        page = (
            await gateway.get(f"{base}/loans?limit=200&offset={len(loans)}", headers=bureau)
        ).json()
        loans += [loan["id"] for loan in page["items"]]
        if len(loans) >= page["total"]:
            break
    print(f"  batch opened with {len(loans):,} loans ({time.perf_counter() - started:.1f} s)")
    token = (
        await gateway.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(bank["client_id"], bank["client_secret"]),
        )
    ).json()["access_token"]
    return OpenBatch(bank=bank, token=token, loans=loans)


# Banks report what has happened: the loans were lent 120 days ago, repaid monthly since.
def lent_on() -> date:
    return shanghai_today() - timedelta(days=120)


def approval_and_disbursal(loan: str) -> list[dict[str, Any]]:
    today = lent_on()
    return [
        {
            "id": f"{loan}-a",
            "type": "loan.approved",
            "data": {
                "loan_id": loan,
                "approved_amount": "2000000.00",
                "annual_interest_rate": "0.0385",
                "approved_on": today.isoformat(),
            },
        },
        {
            "id": f"{loan}-d",
            "type": "loan.disbursed",
            "data": {
                "loan_id": loan,
                "amount": "2000000.00",
                "disbursed_on": today.isoformat(),
                "maturity_on": (today + timedelta(days=365)).isoformat(),
            },
        },
    ]


def repayment(
    loan: str, key: str, month: int = 1, principal: str = "100000.00", interest: str = "6000.00"
) -> dict[str, Any]:
    """The ``month``-th monthly repayment: 6,000.00 of interest is within a month's at
    3.85 % on what is still owed (the gateway refuses more)."""
    return {
        "id": key,
        "type": "loan.repayment",
        "data": {
            "loan_id": loan,
            "principal": principal,
            "interest": interest,
            "paid_on": (lent_on() + timedelta(days=30 * month)).isoformat(),
        },
    }


async def send_bulk(
    gateway: httpx.AsyncClient, opened: OpenBatch, events: list[dict[str, Any]]
) -> dict[str, int]:
    bodies = [
        signed(opened.token, opened.bank["signing_secret"], {"events": events[i : i + BULK]})
        for i in range(0, len(events), BULK)
    ]
    counts = {"applied": 0, "held": 0, "refused": 0}
    for body, headers in bodies:
        response = await gateway.post("/v1/bank/events/bulk", content=body, headers=headers)
        response.raise_for_status()
        for key in counts:
            counts[key] += response.json()[key]
    return counts


async def run(stack: LocalStack, loans_wanted: int, profile: bool = False) -> None:
    tokens = Tokens(stack.keys_dir)
    limits = httpx.Timeout(300.0)
    async with (
        httpx.AsyncClient(base_url=stack.url("loan_intake"), timeout=limits) as intake,
        httpx.AsyncClient(base_url=stack.url("bank_gateway"), timeout=limits) as gateway,
    ):
        opened = await open_batch(stack, intake, gateway, loans_wanted)
        events = []
        for loan in opened.loans:
            events += approval_and_disbursal(loan)
            events += [repayment(loan, f"{loan}-r{n}", n + 1) for n in range(3)]
        gateway_pid = stack.processes["bank_gateway"].pid
        rss_before = rss_mb(gateway_pid)
        collapsed = stack.state_dir / "bank_gateway.collapsed"
        spy = record(gateway_pid, 600, collapsed) if profile else None
        started = time.perf_counter()
        counts = await send_bulk(gateway, opened, events)
        elapsed = time.perf_counter() - started
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
            spy.wait()
            print("share of the gateway's samples with the frame on the stack:")
            for share, frame in summarise(collapsed, 40):
                print(f"  {share:5.1f} %  {frame}")
        rss_after = rss_mb(gateway_pid)
        print(
            f"\n{len(events):,} events in {-(-len(events) // BULK)} signed bulk requests: "
            f"{elapsed:.2f} s ({len(events) / elapsed:,.0f} events/s); {counts}"
        )
        met = elapsed <= 2 * len(events) / 10_000
        print(f"  target ≤ 2 s for 10,000: {'met' if met else 'NOT met'}")
        print(f"  bank_gateway RSS {rss_before:.0f} → {rss_after:.0f} MB")
        started = time.perf_counter()
        bureau = tokens.header(tokens.bureau("alice"))
        while True:
            page = await intake.get("/v1/applications?status=repaying&page_size=1", headers=bureau)
            if page.json()["total"] >= len(opened.loans):
                break
            await asyncio.sleep(0.5)
        visible = time.perf_counter() - started
        print(
            f"  every SME's page shows repaying {visible:.1f} s later "
            f"({len(opened.loans) * 5:,} loan updates delivered to loan_intake in order)"
        )
        report.record(
            "callbacks_bulk",
            events=len(events),
            seconds=round(elapsed, 2),
            events_per_s=round(len(events) / elapsed, 1),
            visible_in_intake_s=round(visible, 1),
            rss={"bank_gateway": [round(rss_before, 1), round(rss_after, 1)]},
        )


def stack_on_postgres(label: str) -> tuple[LocalStack, list[str]]:
    """The three services on fresh PostgreSQL databases (dropped by :func:`drop_databases`)."""
    names = {s.name: f"picidai_bench_{label}_{s.name}" for s in SERVICES}
    asyncio.run(create_databases(list(names.values())))
    state = Path(tempfile.mkdtemp(prefix=f"picidai-{label}-"))
    url = SERVER.replace("postgresql://", "postgresql+asyncpg://")
    stack = LocalStack(
        state_dir=state,
        database_urls={name: f"{url}/{db}" for name, db in names.items()},
        ports={s.name: free_port() for s in SERVICES},
        log_dir=state / "logs",
        separate_workers=True,
        extra_env={"INTAKE_OUTBOX_POLL_SECONDS": "0.2", "GATEWAY_OUTBOX_POLL_SECONDS": "0.2"},
    )
    return stack, list(names.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the gateway during the bulk (root)"
    )
    args = parser.parse_args()
    stack, databases = stack_on_postgres("cb")
    try:
        stack.prepare()
        stack.start_all()
        asyncio.run(run(stack, args.loans, args.profile))
    finally:
        stack.stop_all()
        asyncio.run(drop_databases(databases))


if __name__ == "__main__":
    main()
