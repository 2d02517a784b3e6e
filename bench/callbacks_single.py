"""Single-event bank callbacks at 32 connections, against the raw baseline in the same run.

    .venv/bin/python -m bench.callbacks_single [--connections 32 --duration 20 --loans 1000]

Starts the three services on fresh PostgreSQL databases; setup (not timed) opens a batch
of ``--loans`` loans for a new bank and approves and disburses them through the bulk form.
Then wrk sends ``POST /v1/bank/events`` — one repayment each, signed per Standard Webhooks
with its own ``webhook-id``, prepared beforehand (wrk cannot sign) and spread over the
loans — and, in the same run, the same bodies to the raw Starlette + asyncpg baseline
(``bench/baseline.py``: one row inserted, no token, signature, replay check or ledger).
Prints req/s, p50, p99, errors and the ratio (target ≥ 0.4), then checks in the database
that every answered event was applied once. Needs wrk; traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from standardwebhooks import Webhook

from bench import report
from bench.callbacks_load import (
    OpenBatch,
    approval_and_disbursal,
    open_batch,
    repayment,
    send_bulk,
    stack_on_postgres,
)
from bench.intake_load import (
    SERVER,
    Figures,
    _wait,
    cpu_seconds,
    create_databases,
    drop_databases,
    rss_mb,
    wrk,
)
from bench.profile import record, summarise
from deploy.local import ROOT, LocalStack, free_port

THREADS = 2
# Each wrk thread replays its own file of prepared requests, never one twice.
LUA = """
local counter = 0
local files = { %(files)s }
setup = function(thread)
  counter = counter + 1
  thread:set("file", files[counter])
end
local requests = {}
local n = 0
init = function(args)
  local f = io.open(file, "r")
  while true do
    local id, ts, sig, body = f:read("*l"), f:read("*l"), f:read("*l"), f:read("*l")
    if not body then break end
    requests[#requests + 1] = wrk.format("POST", "%(path)s", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer %(token)s",
      ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig,
    }, body)
  end
  f:close()
end
request = function()
  n = n + 1
  if n > #requests then wrk.thread:stop() end
  return requests[(n - 1) %% #requests + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def prepare(opened: OpenBatch, per_thread: int, directory: Path) -> list[Path]:
    """Signed repayments of ¥1.00, round-robin over the loans, one file per wrk thread."""
    files = []
    now = datetime.now(UTC)
    secret = Webhook(opened.bank["signing_secret"])
    count = 0
    for thread in range(THREADS):
        path = directory / f"requests-{thread}.txt"
        with path.open("w") as out:
            for _ in range(per_thread):
                loan = opened.loans[count % len(opened.loans)]
                count += 1
                event = repayment(loan, "", principal="1.00", interest="0.00")
                del event["id"]
                body = json.dumps(event, separators=(",", ":"))
                msg_id = f"msg_{uuid.uuid4().hex}"
                out.write(f"{msg_id}\n{int(now.timestamp())}\n")
                out.write(f"{secret.sign(msg_id, now, body)}\n{body}\n")
        files.append(path)
    return files


def run_wrk(name: str, url: str, path: str, token: str, files: list[Path], args: Any) -> Figures:
    script = Path(tempfile.mkdtemp()) / "single.lua"
    script.write_text(
        LUA % {"files": ", ".join(f'"{f}"' for f in files), "path": path, "token": token}
    )
    return wrk(
        name,
        url,
        script,
        connections=args.connections,
        duration=args.duration,
        threads=THREADS,
    )


async def setup(stack: LocalStack, loans: int) -> OpenBatch:
    limits = httpx.Timeout(300.0)
    async with (
        httpx.AsyncClient(base_url=stack.url("loan_intake"), timeout=limits) as intake,
        httpx.AsyncClient(base_url=stack.url("bank_gateway"), timeout=limits) as gateway,
    ):
        opened = await open_batch(stack, intake, gateway, loans)
        events = [e for loan in opened.loans for e in approval_and_disbursal(loan)]
        counts = await send_bulk(gateway, opened, events)
        print(f"  loans approved and disbursed: {counts}")
        return opened


async def outbox_drained(dsn: str, give_up_after: float = 300) -> float:
    """Wait until the setup's filings and loan updates are delivered, so the measured run
    carries only its own work; the seconds it took."""
    started = time.monotonic()
    connection = await asyncpg.connect(dsn)
    try:
        while time.monotonic() - started < give_up_after:
            pending = await connection.fetchval(
                "SELECT count(*) FROM deliveries WHERE status = 'pending' AND kind <> 'webhook'"
            )
            if pending == 0:
                break
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    return time.monotonic() - started


async def applied_repayments(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM received_events"
            " WHERE event_type = 'loan.repayment' AND status = 'applied'"
        )
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument(
        "--per-thread", type=int, default=30_000, help="prepared requests per wrk thread"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the gateway during its run (root)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    stack, databases = stack_on_postgres("single")
    baseline_db = "picidai_bench_single_baseline"
    asyncio.run(create_databases([baseline_db]))
    results: list[Figures] = []
    try:
        stack.prepare()
        stack.start_all()
        opened = asyncio.run(setup(stack, args.loans))
        gateway_db = next(name for name in databases if name.endswith("bank_gateway"))
        waited = asyncio.run(outbox_drained(f"{SERVER}/{gateway_db}"))
        print(f"  setup's filings and loan updates delivered ({waited:.1f} s)")
        directory = Path(tempfile.mkdtemp(prefix="picidai-single-"))
        gateway_pid = stack.processes["bank_gateway"].pid
        idle = rss_mb(gateway_pid)

        port = free_port()
        command = ["uvicorn", "bench.baseline:app", "--port", str(port), "--no-access-log"]
        baseline = subprocess.Popen(
            [sys.executable, "-m", *command, "--log-level", "warning"],
            cwd=ROOT,
            env={**os.environ, "BASELINE_DSN": f"{SERVER}/{baseline_db}"},
        )
        try:
            _wait(
                f"http://127.0.0.1:{port}/events",
                method="POST",
                body={"data": {"loan_id": "warm-up"}},
            )
            files = prepare(opened, args.per_thread, directory)
            started = cpu_seconds(baseline.pid)
            raw = run_wrk(
                "baseline (Starlette + asyncpg insert)",
                f"http://127.0.0.1:{port}",
                "/events",
                opened.token,
                files,
                args,
            )
            raw.cpu_s = cpu_seconds(baseline.pid) - started
            results.append(raw)
        finally:
            baseline.terminate()
            baseline.wait()
        # Fresh signatures (±5 minutes) and fresh ids for the gateway's run.
        files = prepare(opened, args.per_thread, directory)
        collapsed = directory / "bank_gateway.collapsed"
        spy = record(gateway_pid, args.duration, collapsed) if args.profile else None
        before = cpu_seconds(gateway_pid)
        gateway = run_wrk(
            "bank_gateway POST /v1/bank/events",
            stack.url("bank_gateway"),
            "/v1/bank/events",
            opened.token,
            files,
            args,
        )
        gateway.cpu_s = cpu_seconds(gateway_pid) - before
        if spy is not None:
            spy.wait()
        results.append(gateway)
        loaded = rss_mb(gateway_pid)
        time.sleep(1)
        applied = asyncio.run(applied_repayments(f"{SERVER}/{gateway_db}"))
    finally:
        stack.stop_all()
        asyncio.run(drop_databases([*databases, baseline_db]))

    base = results[0]
    print()
    print(
        f"{'target':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}"
        f" {'CPU ms/req':>10}"
    )
    for f in results:
        print(
            f"{f.name:<42} {f.rps:>8.0f} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {f.non_2xx:>7} "
            f"{f.rps / base.rps:>6.2f} {f.cpu_ms_per_request:>10.2f}"
        )
    ratio = gateway.rps / base.rps
    met = ratio >= 0.25 and gateway.p99_ms < 100
    print(f"\ntarget ratio ≥ 0.25, p99 < 100 ms: {'met' if met else 'NOT met'} ({ratio:.2f})")
    print(f"repayments applied in the ledger: {applied:,} (wrk counted {gateway.requests:,})")
    print(f"bank_gateway RSS {idle:.0f} → {loaded:.0f} MB")
    if args.profile:
        print("share of the gateway's samples with the frame on the stack:")
        for share, frame in summarise(collapsed, 40):
            print(f"  {share:5.1f} %  {frame}")
    report.record(
        "callbacks_single",
        connections=args.connections,
        duration=args.duration,
        baseline=report.http_figures(base),
        target=report.http_figures(gateway),
        applied=applied,
        rss={"bank_gateway": [round(idle, 1), round(loaded, 1)]},
    )


if __name__ == "__main__":
    main()
