"""The shipped policy's expressions on the three candidate engines (STACK.md), one core.

    .venv/bin/python -m bench.policy_engines

Each engine evaluates the 9 eligibility rules and 9 scoring factors of "青浦区批次贷" for
one application: once per expression, and as one array expression. rule-engine gets
exact Decimal yuan; CEL and JsonLogic get integers (fen, basis points), as they would have
to. Printed: whole policies per second. The figures chose the engine (docs/decisions.md).
"""

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import cel
import datalogic_py
import rule_engine

from services.guarantee.policies.default_policy import default_policy

N = 3000


def rule_engine_texts() -> list[str]:
    document = default_policy()
    return [r["when"] for r in document["rules"]] + [
        f["points"] for f in document["scoring"]["factors"]
    ]


def to_cel(text: str) -> str:
    """rule-engine → CEL for these texts: && || !, double quotes, money as fen."""
    out = (
        " ".join(text.split())
        .replace(" and ", " && ")
        .replace(" or ", " || ")
        .replace("not ", "!")
        .replace("'", '"')
    )
    out = out.replace("amount <= max_amount", "amount_fen <= max_amount_fen")
    for ratio in ("amount_to_revenue", "debt_ratio", "output_per_mu"):
        out = out.replace(ratio, f"{ratio}_bp")
    out = out.replace("_bp > 1 ?", "_bp > 10000 ?").replace("_bp > 0.5 ?", "_bp > 5000 ?")
    out = out.replace("_bp > 0.85)", "_bp > 8500)")
    out = out.replace("_bp >= 800 ?", "_bp >= 8000000 ?").replace(
        "_bp >= 400 ?", "_bp >= 4000000 ?"
    )
    return out


def v(name: str) -> dict[str, str]:
    return {"var": name}


def flag(name: str, points: int) -> dict[str, Any]:
    return {"if": [v(name), points, 0]}


JSONLOGIC = [
    {"==": [v("registered_district"), "青浦区"]},
    {"in": [v("sme_size"), ["medium", "small", "micro"]]},
    {">=": [v("years_operating"), {"if": [v("industrial"), 1, 2]}]},
    {
        "and": [
            {"!=": [v("industry_section"), "J"]},
            {"!=": [v("industry_group"), "K701"]},
            {"!=": [v("industry_division"), "R90"]},
            {"!=": [v("sme_sector"), "real_estate_development"]},
        ]
    },
    {"!": v("bad_credit_2y")},
    {"!": v("pending_lawsuit")},
    {"!": v("phase_out_list")},
    {"<=": [v("amount_fen"), v("max_amount_fen")]},
    {"<=": [v("term_months"), v("max_term_months")]},
    flag("little_giant", 15),
    flag("specialized_new", 10),
    flag("high_tech", 8),
    flag("key_industry", 8),
    flag("tech_sme", 5),
    {"if": [{">=": [v("years_operating"), 5]}, 5, 0]},
    {
        "if": [
            {"==": [v("output_per_mu_bp"), None]},
            0,
            {">=": [v("output_per_mu_bp"), 8000000]},
            8,
            {">=": [v("output_per_mu_bp"), 4000000]},
            4,
            0,
        ]
    },
    {
        "if": [
            {"==": [v("amount_to_revenue_bp"), None]},
            -30,
            {">": [v("amount_to_revenue_bp"), 10000]},
            -30,
            {">": [v("amount_to_revenue_bp"), 5000]},
            -15,
            0,
        ]
    },
    {
        "if": [
            {"and": [{"!=": [v("debt_ratio_bp"), None]}, {">": [v("debt_ratio_bp"), 8500]}]},
            -10,
            0,
        ]
    },
]

FIELDS: dict[str, Any] = {
    "registered_district": "青浦区",
    "sme_size": "small",
    "sme_size_zh": "小型",
    "years_operating": Decimal(4),
    "industrial": True,
    "industry_code": "C391",
    "industry_section": "C",
    "industry_group": "C391",
    "industry_division": "C39",
    "sme_sector": "industry",
    "bad_credit_2y": False,
    "pending_lawsuit": False,
    "phase_out_list": False,
    "amount": Decimal("3000000.00"),
    "max_amount": Decimal("10000000.00"),
    "term_months": Decimal(24),
    "max_term_months": Decimal(36),
    "little_giant": False,
    "specialized_new": True,
    "high_tech": True,
    "key_industry": True,
    "tech_sme": False,
    "amount_to_revenue": Decimal("0.3000"),
    "debt_ratio": Decimal("0.4444"),
    "output_per_mu": Decimal("520.0000"),
}
INTEGERS: dict[str, Any] = {
    **{k: int(x) if isinstance(x, Decimal) else x for k, x in FIELDS.items()},
    "amount_fen": 300_000_000,
    "max_amount_fen": 1_000_000_000,
    "amount_to_revenue_bp": 3000,
    "debt_ratio_bp": 4444,
    "output_per_mu_bp": 5_200_000,
}


def rate(run: Callable[[], Any]) -> float:
    run()
    start = time.perf_counter()
    for _ in range(N):
        run()
    return N / (time.perf_counter() - start)


def main() -> None:
    texts = rule_engine_texts()
    context = rule_engine.Context()
    per_rule = [rule_engine.Rule(t, context=context) for t in texts]
    combined = rule_engine.Rule("[" + ", ".join(f"({t})" for t in texts) + "]", context=context)
    cel_texts = [to_cel(t) for t in texts]
    cel_each = [cel.compile(t) for t in cel_texts]
    cel_all = cel.compile("[" + ", ".join(cel_texts) + "]")
    engine = datalogic_py.Engine()
    logic_each = [engine.compile(rule) for rule in JSONLOGIC]
    logic_all = engine.compile(JSONLOGIC)

    results = {
        "rule-engine": [str(x) for x in combined.evaluate(FIELDS)],
        "CEL": [str(x) for x in cel_all.execute(INTEGERS)],
        "JsonLogic": [str(x) for x in logic_all.evaluate(INTEGERS)],
    }
    normal = {k: [x.lower() for x in xs] for k, xs in results.items()}
    agree = len({tuple(xs) for xs in normal.values()}) == 1
    print(f"{len(texts)} expressions per policy; the three engines agree: {agree}")
    if not agree:
        for name, values in results.items():
            print(f"  {name:12s} {values}")
    rows = [
        (
            "rule-engine (Decimal)",
            "one call per expression",
            lambda: [r.evaluate(FIELDS) for r in per_rule],
        ),
        ("rule-engine (Decimal)", "one array expression", lambda: combined.evaluate(FIELDS)),
        (
            "CEL (integers)",
            "one call per expression",
            lambda: [p.execute(INTEGERS) for p in cel_each],
        ),
        ("CEL (integers)", "one list expression", lambda: cel_all.execute(INTEGERS)),
        (
            "JsonLogic (integers)",
            "one call per rule",
            lambda: [r.evaluate(INTEGERS) for r in logic_each],
        ),
        ("JsonLogic (integers)", "one array", lambda: logic_all.evaluate(INTEGERS)),
    ]
    print(f"{'engine':24s} {'how':26s} {'policies/s':>12s} {'µs each':>9s}")
    for engine_name, how, run in rows:
        per_second = rate(run)
        print(f"{engine_name:24s} {how:26s} {per_second:12,.0f} {1e6 / per_second:9.1f}")


if __name__ == "__main__":
    main()
