"""备案 rechecked against the lists in force on its day (issue 18): what it costs a filing.

    .venv/bin/python -m bench.filing_recheck [--filings 500] [--list-rows 10000] [--postgres]

On a freshly migrated guarantee database (SQLite in a temporary directory, or PostgreSQL at
127.0.0.1 with ``--postgres``) with the shipped policy and two approved lists of
``--list-rows`` firms each (专精特新 and 失信被执行人): ``--filings`` applications are assessed
(every third firm on the 专精特新 list and declaring it), then

- each is filed in a transaction of its own through the service the API calls
  (guarantees/service.py ``issue``: the checks, the recheck, the guarantee and its fee
  schedule, the benefits it was issued on, the audit line);
- the recheck alone (assessments/recheck.py) is run on the same assessments, for its share;
- the courts name 20 of the filed firms (a new 失信 list), and 名单变动关注 is read.

Prints CPU and wall milliseconds per filing, and for the rest.
"""

import argparse
import logging
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.list_import import csv_of, on_fresh_guarantee_database
from services.guarantee.assessments import recheck
from services.guarantee.assessments import service as assessments
from services.guarantee.facts import changes
from services.guarantee.facts import service as lists
from services.guarantee.facts.kinds import ListKind
from services.guarantee.guarantees import repository as guarantees_repo
from services.guarantee.guarantees import service as guarantees
from services.guarantee.models import Assessment
from services.guarantee.policies import service as policies
from services.guarantee.policies.default_policy import install_default_policy
from shared.auth import APPROVE_PERMISSION, Principal, Role
from shared.contracts.assessment import AssessmentRequest
from shared.contracts.guarantee import GuaranteeFiling
from shared.db import make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 6)
CLERK = Principal(subject="alice", role=Role.BUREAU, issuer="bank_gateway")
APPROVER = Principal(
    subject="carol",
    role=Role.BUREAU,
    issuer="bank_gateway",
    permissions=frozenset({APPROVE_PERMISSION}),
)
INTAKE = Principal(subject="loan_intake", role=Role.SERVICE, issuer="loan_intake")


async def approved_list(
    sessions: async_sessionmaker[AsyncSession],
    kind: ListKind,
    content: bytes,
    batch: str = "2026年",
) -> list[str]:
    """The list imported, submitted and approved, in force from 1 January; its firms."""
    file = lists.ListFile(kind, "发布单位", batch, "名单", "名单.csv", content, {})
    async with sessions() as session, session.begin():
        made = await lists.import_list(
            session=session, principal=CLERK, file=file, dry_run=False, today=TODAY
        )
        assert made.list is not None
        list_id = made.list.id
        await lists.submit(
            session=session,
            principal=CLERK,
            list_id=list_id,
            effective_from=date(2026, 1, 1),
            expires_on=None,
            today=TODAY,
        )
    async with sessions() as session, session.begin():  # approved by another, later
        await lists.decide(
            session=session,
            principal=APPROVER,
            list_id=list_id,
            approve=True,
            note=None,
            today=TODAY,
        )
    return [line.split(",")[1] for line in content.decode().splitlines()[1:]]


def request(uscc: str, specialized: bool) -> AssessmentRequest:
    return AssessmentRequest.model_validate(
        {
            "application_id": str(uuid.uuid4()),
            "submitted_at": datetime(2026, 11, 25, 2, 0, tzinfo=UTC).isoformat(),
            "as_of": "2026-11-25",
            "enterprise": {
                "uscc": uscc,
                "name": "上海测试企业有限公司",
                "registered_district": "青浦区",
                "industry_code": "C39",
                "sme_sector": "industry",
                "sme_size": "small",
                "employees": 80,
                "annual_revenue": "12000000.00",
                "total_assets": "9000000.00",
                "established_on": "2018-03-01",
                "flags": {"specialized_new": specialized},
            },
            "loan": {"amount": "2000000.00", "term_months": 12, "purpose": "设备"},
        }
    )


def filing(assessed: AssessmentRequest) -> GuaranteeFiling:
    return GuaranteeFiling(
        loan_id=uuid.uuid4(),
        application_id=assessed.application_id,
        batch_id=uuid.uuid4(),
        bank_code="bench",
        principal=Decimal("2000000.00"),
        disbursed_on=date(2026, 11, 27),
        maturity_on=date(2027, 11, 27),
    )


def per(label: str, count: int, cpu: float, wall: float) -> None:
    print(f"  {label:46s} {cpu / count * 1000:6.2f} CPU ms, {wall / count * 1000:6.2f} ms wall")


async def run(url: str, filings: int, rows: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            await install_default_policy(session=session, effective_from=date(2021, 1, 1))
        special = await approved_list(sessions, ListKind.SPECIALIZED_NEW, csv_of(rows, seed=1))
        await approved_list(sessions, ListKind.DISHONEST_DEBTOR, csv_of(rows, seed=2))
        others = [u for u in csv_of(filings, seed=3).decode().splitlines()[1:]]
        firms = [
            (special[i], True) if i % 3 == 0 else (others[i].split(",")[1], False)
            for i in range(filings)
        ]
        requests = [request(uscc, flag) for uscc, flag in firms]
        async with sessions() as session, session.begin():
            await assessments.assess(
                session=session, principal=INTAKE, requests=[(r, None) for r in requests]
            )
        print(f"{filings} filings, lists of {rows:,} firms, on {url.split('://')[0]}")

        cpu, wall = time.process_time(), time.perf_counter()
        for assessed in requests:
            async with sessions() as session, session.begin():
                await guarantees.issue(session=session, filing=filing(assessed))
        per(
            "备案 (issue, with the recheck)",
            filings,
            time.process_time() - cpu,
            time.perf_counter() - wall,
        )

        async with sessions() as session:
            stored = [
                await guarantees_repo.assessment_for_application(
                    session=session, application_id=r.application_id
                )
                for r in requests
            ]
            policy = await policies.in_force(session=session, on=TODAY)
        assert policy is not None and all(isinstance(a, Assessment) for a in stored)
        cpu, wall = time.process_time(), time.perf_counter()
        for assessment in stored:
            async with sessions() as session:
                await recheck.facts_changed_findings(
                    session=session,
                    assessment=assessment,  # type: ignore[arg-type]
                    policy=policy,
                    principal=Decimal("2000000.00"),
                    on=TODAY,
                )
        per(
            "  of which the recheck", filings, time.process_time() - cpu, time.perf_counter() - wall
        )

        named = [uscc for uscc, flag in firms if not flag][:20]
        courts = "序号,统一社会信用代码,企业名称\n" + "".join(
            f"{i},{uscc},上海测试企业{i}有限公司\n" for i, uscc in enumerate(named, 1)
        )
        await approved_list(sessions, ListKind.DISHONEST_DEBTOR, courts.encode(), "2026年12月")
        started = time.perf_counter()
        async with sessions() as session:
            page = await changes.listing_changes(session=session, today=TODAY, offset=0, limit=20)
        print(
            f"  名单变动关注 read: {(time.perf_counter() - started) * 1000:.0f} ms "
            f"({page.total} firms flagged)"
        )
    finally:
        await engine.dispose()


def main() -> None:
    # The figures, not a log line per assessment.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--filings", type=int, default=500)
    parser.add_argument("--list-rows", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    on_fresh_guarantee_database(
        args.postgres, "filings", lambda url: run(url, args.filings, args.list_rows)
    )


if __name__ == "__main__":
    main()
