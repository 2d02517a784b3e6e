"""What-if over 100,000 stored assessments on PostgreSQL, end to end through a real service.

    .venv/bin/python -m bench.whatif_load [--applications 100000]

Creates its own database on 127.0.0.1:5432, migrates and seeds the guarantee service,
stores N assessments under the shipped policy (varied applications over 2026, assessed
in process and written with the service's own insert), starts the guarantee service as
a process, drafts a version (lower cap, higher fee subsidy, one new rule) over HTTP, asks
for the what-if over the whole period and polls it, printing the progress as it comes.
Prints the time from request to result (target ≤ 30 s), the summary, and the service's
RSS. Drops the database afterwards. Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import copy
import json
import random
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench import report
from bench.assess_speed import application
from bench.intake_load import SERVER, create_databases, drop_databases, rss_mb
from deploy.local import LocalStack, free_port
from services.guarantee.assessments import repository as assessments
from services.guarantee.assessments.service import fingerprint
from services.guarantee.policies import service as policies
from services.guarantee.policies.documents import compiled_policy
from services.guarantee.policies.evaluation import evaluate
from shared.clock import utcnow
from shared.db import make_engine, make_sessionmaker
from tests.conftest import Tokens

DATABASE = "picidai_bench_whatif"


async def store_assessments(url: str, count: int) -> float:
    """``count`` assessments under the policy in force, as the service would store them."""
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    rng = random.Random(2021)
    started = time.perf_counter()
    try:
        async with sessionmaker() as session:
            version = await policies.in_force(session=session, on=utcnow().date())
            assert version is not None
        policy = compiled_policy(version)
        chunk = 2000
        for offset in range(0, count, chunk):
            rows = []
            for _ in range(min(chunk, count - offset)):
                request = application(rng)
                result = evaluate(policy, request)
                rows.append(
                    {
                        "id": request.application_id,
                        "application_id": request.application_id,
                        "enterprise_uscc": request.enterprise.uscc,
                        "fingerprint": fingerprint(request),
                        "request": request.model_dump(mode="json"),
                        "policy_version_id": version.id,
                        "policy_hash": version.content_hash,
                        "as_of": request.as_of,
                        "decision": result.decision.value,
                        "score": result.score,
                        "reasons": [r.model_dump(mode="json") for r in result.reasons],
                        "terms": result.terms.model_dump(mode="json") if result.terms else None,
                        "trace": result.trace,
                        "requested_by": "service:loan_intake",
                        "created_at": utcnow(),
                    }
                )
            async with sessionmaker() as session, session.begin():
                await assessments.insert_assessments(session=session, rows=rows)
            print(f"  stored {offset + len(rows):,}", end="\r", flush=True)
    finally:
        await engine.dispose()
    print()
    return time.perf_counter() - started


async def analyze(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("ANALYZE assessments"))
            await connection.commit()
    finally:
        await engine.dispose()


def family_rss_mb(pid: int) -> tuple[float, float]:
    """RSS of the service process and of its worker processes together."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = 0.0
    for child in children:
        try:
            workers += rss_mb(int(child))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return rss_mb(pid), workers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and reuse it with --reuse)"
    )
    parser.add_argument("--processes", type=int, default=2, help="GUARANTEE_WHATIF_PROCESSES")
    parser.add_argument("--chunk", type=int, default=1000, help="GUARANTEE_WHATIF_CHUNK_SIZE")
    parser.add_argument("--reuse", action="store_true", help="use the kept database as it is")
    args = parser.parse_args()
    if not args.reuse:
        asyncio.run(create_databases([DATABASE]))
    url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{DATABASE}"
    state = Path(tempfile.mkdtemp(prefix="picidai-whatif-"))
    stack = LocalStack(
        state_dir=state,
        database_urls={
            "guarantee": url,
            "loan_intake": f"sqlite+aiosqlite:///{state}/intake.db",
            "bank_gateway": f"sqlite+aiosqlite:///{state}/gateway.db",
        },
        ports={"guarantee": free_port(), "loan_intake": free_port(), "bank_gateway": free_port()},
        log_dir=state / "logs",
        separate_workers=True,  # the what-if runs in the guarantee's worker process
        extra_env={
            "GUARANTEE_LOG_LEVEL": "DEBUG",
            "GUARANTEE_WHATIF_PROCESSES": str(args.processes),
            "GUARANTEE_WHATIF_CHUNK_SIZE": str(args.chunk),
        },
    )
    try:
        stack.prepare()
        if not args.reuse:
            print(f"storing {args.applications:,} assessments on PostgreSQL …")
            seconds = asyncio.run(store_assessments(url, args.applications))
            print(f"  stored in {seconds:.1f} s (setup, not part of the figure)")
            # What autovacuum does on a live database soon after a bulk load; without
            # statistics the planner sorts the whole remaining period for every page.
            asyncio.run(analyze(url))
        # The gateway issues the clerks' tokens and is asked whether their sessions stand.
        for name in ("bank_gateway", "guarantee"):
            stack.start(name)
            stack.wait_ready(name)
        tokens = Tokens(stack.keys_dir)
        alice = tokens.header(tokens.bureau("alice", approver=True))
        with httpx.Client(base_url=stack.url("guarantee"), timeout=30) as client:
            current = client.get("/v1/policies/in-force", headers=alice)
            current.raise_for_status()
            current = current.json()
            document = copy.deepcopy(current["document"])
            document["terms"]["default"]["max_amount"] = "5000000.00"
            document["terms"]["default"]["fee_subsidy_share"] = "0.6000"
            document["rules"].append(
                {
                    "code": "no_tiny_loans",
                    "when": "amount >= 100000",
                    "message_zh": "申请金额须不低于 10 万元",
                    "message_en": "at least 100,000",
                }
            )
            draft = client.post("/v1/policies", json={"document": document}, headers=alice)
            draft.raise_for_status()
            pid = stack.processes["guarantee"].pid
            worker_pid = stack.processes["guarantee.worker"].pid
            rss_before, worker_before = rss_mb(pid), rss_mb(worker_pid)
            peak_worker = worker_before
            started = time.perf_counter()
            asked = client.post(
                f"/v1/policies/{draft.json()['id']}/whatif",
                json={"period_from": "2026-01-01", "period_to": "2026-12-31"},
                headers=alice,
            )
            asked.raise_for_status()
            job_url = asked.headers["Location"]
            peak_rss, peak_workers, polls, seen = rss_before, 0.0, 0, []
            while True:
                job = client.get(job_url, headers=alice).json()
                polls += 1
                worker_rss, workers_rss = family_rss_mb(worker_pid)
                peak_rss = max(peak_rss, rss_mb(pid))
                peak_worker = max(peak_worker, worker_rss)
                peak_workers = max(peak_workers, workers_rss)
                elapsed = time.perf_counter() - started
                seen.append(job["percent"])
                print(
                    f"  {elapsed:5.1f} s  {job['status']:9s} {job['percent']:3d} %  "
                    f"{job['processed']:,}/{job['total']:,}",
                    flush=True,
                )
                if job["status"] in ("succeeded", "failed"):
                    break
                time.sleep(1.0)
            elapsed = time.perf_counter() - started
        print(f"\nwhat-if over {job['total']:,} assessments: {job['status']} in {elapsed:.1f} s")
        met = elapsed <= 10 * job["total"] / 100_000
        print(f"  target ≤ 10 s per 100,000: {'met' if met else 'NOT met'}")
        print(f"  progress polls: {polls}, distinct percentages seen: {len(set(seen))}")
        print(
            f"  guarantee RSS: {rss_before:.0f} MB before, {peak_rss:.0f} MB peak; its worker "
            f"{worker_before:.0f} → {peak_worker:.0f} MB, the what-if processes it runs "
            f"{peak_workers:.0f} MB together at peak"
        )
        print(json.dumps(job["summary"], ensure_ascii=False, indent=2))
        report.record(
            "whatif",
            assessments=job["total"],
            status=job["status"],
            seconds=round(elapsed, 1),
            polls=polls,
            percentages=len(set(seen)),
            rss={
                "guarantee": [round(rss_before, 1), round(peak_rss, 1)],
                "guarantee.worker": [round(worker_before, 1), round(peak_worker, 1)],
            },
            worker_processes_mb=round(peak_workers, 1),
        )
    finally:
        stack.stop_all()
        if not args.keep:
            asyncio.run(drop_databases([DATABASE]))
        print(f"service log: {state / 'logs' / 'guarantee.log'}")


if __name__ == "__main__":
    main()
