"""In-process assessments of the shipped policy per second, on one core.

    .venv/bin/python -m bench.assess_speed [--applications 5000] [--rounds 3]

Applications are varied (all sectors and sizes, flags, missing land and liabilities,
amounts across every cap) and built beforehand. Two figures per round: ``evaluate`` on a
parsed request (what an assessment call does after FastAPI has parsed the body), and
parse + evaluate from stored JSON (what a what-if replay does per row). Target ≥ 5,000/s.
"""

import argparse
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.guarantee.policies.compiler import compile_policy
from services.guarantee.policies.default_policy import default_policy
from services.guarantee.policies.document import PolicyDocument
from services.guarantee.policies.evaluation import evaluate
from shared.contracts.assessment import AssessmentRequest
from shared.sme import SECTORS

FLAGS = (
    "specialized_new",
    "little_giant",
    "high_tech",
    "tech_sme",
    "key_industry",
    "bad_credit_2y",
    "pending_lawsuit",
    "phase_out_list",
)


def application(rng: random.Random) -> AssessmentRequest:
    as_of = date(2026, 1, 1) + timedelta(days=rng.randrange(320))
    return AssessmentRequest.model_validate(
        {
            "application_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "submitted_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
            "as_of": as_of.isoformat(),
            "enterprise": {
                "uscc": "91310118MA1JL0000N",
                "name": "基准企业",
                "registered_district": rng.choice(["青浦区"] * 9 + ["嘉定区"]),
                "industry_code": rng.choice(["C39", "C27", "C36", "I65", "K701", None]),
                "sme_sector": rng.choice(["industry"] * 6 + sorted(SECTORS)),
                "sme_size": rng.choice(["small", "micro", "medium"] * 6 + ["large"]),
                "employees": rng.randrange(1, 2000),
                "annual_revenue": str(Decimal(rng.randrange(0, 3 * 10**10)) / 100),
                "total_assets": str(Decimal(rng.randrange(0, 10**11)) / 100),
                "total_liabilities": rng.choice(
                    [None, str(Decimal(rng.randrange(0, 10**10)) / 100)]
                ),
                "land_area_mu": rng.choice([None, "0", "12.5", "80"]),
                "established_on": (as_of - timedelta(days=rng.randrange(0, 9000))).isoformat(),
                "flags": {f: rng.random() < 0.2 for f in FLAGS},
            },
            "loan": {
                "amount": str(Decimal(rng.randrange(10_000_00, 12_000_000_00)) / 100),
                "term_months": rng.randrange(1, 40),
                "purpose": "流动资金",
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(17)
    requests = [application(rng) for _ in range(args.applications)]
    stored = [r.model_dump(mode="json") for r in requests]
    policy = compile_policy(PolicyDocument.model_validate(default_policy()))
    decisions: dict[str, int] = {}
    for r in requests:
        decision = evaluate(policy, r).decision.value
        decisions[decision] = decisions.get(decision, 0) + 1
    print(f"{args.applications:,} applications: {decisions}")
    figures = []
    for round_number in range(1, args.rounds + 1):
        start = time.perf_counter()
        for r in requests:
            evaluate(policy, r)
        parsed = len(requests) / (time.perf_counter() - start)
        start = time.perf_counter()
        for row in stored:
            evaluate(policy, AssessmentRequest.model_validate(row))
        replayed = len(stored) / (time.perf_counter() - start)
        figures.append((parsed, replayed))
        print(
            f"round {round_number}: evaluate {parsed:,.0f} assessments/s "
            f"({1e6 / parsed:.0f} µs); parse + evaluate {replayed:,.0f}/s ({1e6 / replayed:.0f} µs)"
        )

    best = max(f[0] for f in figures), max(f[1] for f in figures)
    print(f"best: evaluate {best[0]:,.0f}/s; parse + evaluate {best[1]:,.0f}/s (target ≥ 5,000/s)")


if __name__ == "__main__":
    main()
