"""The application as a policy's expressions see it: the names a rule may use, their types,
how they are derived from an assessment request, and the probe applications every
expression must evaluate on before it is saved."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rule_engine.types import DataType

from shared.contracts.assessment import AssessmentRequest, EnterpriseFlags
from shared.sme import SmeSize, is_industrial

BOOLEAN, NUMBER, STRING = DataType.BOOLEAN, DataType.FLOAT, DataType.STRING


@dataclass(frozen=True)
class FieldSpec:
    type: Any
    label_zh: str
    nullable: bool = False


# The application as policy expressions see it. Money in yuan (Decimal), rates as Decimal.
# Segment-dependent limits (max_amount, max_term_months) are filled in after the segment
# is chosen, so one rule text serves every segment.
FIELDS: dict[str, FieldSpec] = {
    "registered_district": FieldSpec(STRING, "注册地所在区"),
    "industry_code": FieldSpec(STRING, "国民经济行业代码（GB/T 4754-2017）", nullable=True),
    "industry_section": FieldSpec(STRING, "行业门类（如 C）", nullable=True),
    "industry_division": FieldSpec(STRING, "行业大类（如 C39）", nullable=True),
    "industry_group": FieldSpec(STRING, "行业中类（如 K701）", nullable=True),
    "sme_sector": FieldSpec(STRING, "300号划型行业"),
    "sme_size": FieldSpec(STRING, "企业规模（medium / small / micro / large）"),
    "sme_size_zh": FieldSpec(STRING, "企业规模（中型 / 小型 / 微型 / 大型）"),
    "industrial": FieldSpec(BOOLEAN, "是否工业企业"),
    "employees": FieldSpec(NUMBER, "从业人员（人）"),
    "annual_revenue": FieldSpec(NUMBER, "营业收入（元）"),
    "total_assets": FieldSpec(NUMBER, "资产总额（元）"),
    "total_liabilities": FieldSpec(NUMBER, "负债总额（元）", nullable=True),
    "land_area_mu": FieldSpec(NUMBER, "用地面积（亩）", nullable=True),
    "years_operating": FieldSpec(NUMBER, "经营年限（整年）"),
    "amount": FieldSpec(NUMBER, "申请金额（元）"),
    "term_months": FieldSpec(NUMBER, "期限（月）"),
    "purpose": FieldSpec(STRING, "贷款用途"),
    "preferred_bank": FieldSpec(STRING, "意向合作银行", nullable=True),
    "amount_to_revenue": FieldSpec(NUMBER, "申请金额 ÷ 营业收入（收入为 0 时为空）", nullable=True),
    "debt_ratio": FieldSpec(NUMBER, "资产负债率（未填负债或资产为 0 时为空）", nullable=True),
    "output_per_mu": FieldSpec(NUMBER, "亩均产值（万元/亩，未填用地时为空）", nullable=True),
    "specialized": FieldSpec(BOOLEAN, "专精特新或小巨人"),
    "segment": FieldSpec(STRING, "适用的条款分组代码（default 为默认）"),
    "firm_outstanding": FieldSpec(NUMBER, "企业现有在保余额（元，各批次、各银行合计）"),
    "firm_pending": FieldSpec(
        NUMBER, "企业在途申请金额（元，已评估可担保或转人工、尚未放款或失效）"
    ),
    "firm_total": FieldSpec(NUMBER, "在保余额 + 在途申请 + 本次申请（元）"),
    "max_amount": FieldSpec(NUMBER, "本分组单户上限（元）"),
    "max_term_months": FieldSpec(NUMBER, "本分组期限上限（月）"),
    **{
        name: FieldSpec(BOOLEAN, field.description or name)
        for name, field in EnterpriseFlags.model_fields.items()
    },
}

# Amounts in yuan: a finding shows them as ¥1,234.50.
MONEY_FIELDS = frozenset(
    {
        "annual_revenue",
        "total_assets",
        "total_liabilities",
        "amount",
        "firm_outstanding",
        "firm_pending",
        "firm_total",
        "max_amount",
    }
)

# Names known before the segment is chosen: a segment condition may not use the limits
# the segment itself decides.
SEGMENT_FIELDS = {
    name: spec
    for name, spec in FIELDS.items()
    if name not in {"segment", "max_amount", "max_term_months"}
}


def years_between(start: date, end: date) -> int:
    """Whole years from ``start`` to ``end`` (a firm founded 2020-03-01 is 1 on 2021-03-01)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return max(years, 0)


_RATIO = Decimal("0.0001")
_WAN = Decimal(10000)


@dataclass(frozen=True)
class FirmExposure:
    """What the fund already stands behind for the firm when it applies: the 在保余额 of
    its guarantees in force, and the amounts of its other applications assessed
    guaranteeable (or referred) that are neither lent nor lapsed. Kept in the trace, so a
    replay or a what-if sees the firm as it was."""

    outstanding: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)

    @classmethod
    def of_trace(cls, trace: Mapping[str, Any]) -> "FirmExposure":
        fields = trace.get("fields", {})
        return cls(
            outstanding=Decimal(fields.get("firm_outstanding") or 0),
            pending=Decimal(fields.get("firm_pending") or 0),
        )


def as_assessed(
    request: AssessmentRequest, facts: Sequence[Mapping[str, Any]] | None
) -> AssessmentRequest:
    """The request with the firm's facts as its assessment went by them — resolved against
    the reference lists (facts/resolution.py) and kept in the trace — so a replay or a
    what-if sees the firm as it was; as declared when there are none (assessed before)."""
    if not facts:
        return request
    flags = request.enterprise.flags.model_copy(update={f["flag"]: bool(f["value"]) for f in facts})
    enterprise = request.enterprise.model_copy(update={"flags": flags})
    return request.model_copy(update={"enterprise": enterprise})


def application_fields(
    request: AssessmentRequest, firm: FirmExposure = FirmExposure()
) -> dict[str, Any]:
    """Every field of :data:`FIELDS` except the segment's limits, from one request and the
    firm's exposure when it was made."""
    enterprise, loan = request.enterprise, request.loan
    flags = enterprise.flags
    code = enterprise.industry_code
    revenue, assets = enterprise.annual_revenue, enterprise.total_assets
    liabilities, land = enterprise.total_liabilities, enterprise.land_area_mu
    fields: dict[str, Any] = {
        "registered_district": enterprise.registered_district,
        "industry_code": code,
        "industry_section": code[:1] if code else None,
        "industry_division": code[:3] if code and len(code) >= 3 else None,
        "industry_group": code[:4] if code and len(code) >= 4 else None,
        "sme_sector": enterprise.sme_sector,
        "sme_size": enterprise.sme_size.value,
        "sme_size_zh": enterprise.sme_size.label_zh,
        "industrial": is_industrial(enterprise.sme_sector),
        "employees": Decimal(enterprise.employees),
        "annual_revenue": revenue,
        "total_assets": assets,
        "total_liabilities": liabilities,
        "land_area_mu": land,
        "years_operating": Decimal(years_between(enterprise.established_on, request.as_of)),
        "amount": loan.amount,
        "term_months": Decimal(loan.term_months),
        "purpose": loan.purpose,
        "preferred_bank": loan.preferred_bank,
        "amount_to_revenue": (loan.amount / revenue).quantize(_RATIO) if revenue > 0 else None,
        "debt_ratio": (
            (liabilities / assets).quantize(_RATIO)
            if liabilities is not None and assets > 0
            else None
        ),
        "output_per_mu": (revenue / _WAN / land).quantize(_RATIO) if land else None,
        "specialized": flags.specialized_new or flags.little_giant,
        "firm_outstanding": firm.outstanding,
        "firm_pending": firm.pending,
        "firm_total": firm.outstanding + firm.pending + loan.amount,
    }
    fields.update(flags.model_dump())
    return fields


def probe_applications(limits: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Applications every expression must evaluate on without error."""
    base: dict[str, Any] = {
        "registered_district": "青浦区",
        "industry_code": "C391",
        "industry_section": "C",
        "industry_division": "C39",
        "industry_group": "C391",
        "sme_sector": "industry",
        "sme_size": SmeSize.SMALL.value,
        "sme_size_zh": SmeSize.SMALL.label_zh,
        "industrial": True,
        "employees": Decimal(80),
        "annual_revenue": Decimal("12000000.00"),
        "total_assets": Decimal("9000000.00"),
        "total_liabilities": Decimal("4000000.00"),
        "land_area_mu": Decimal("20"),
        "years_operating": Decimal(5),
        "amount": Decimal("2000000.00"),
        "term_months": Decimal(12),
        "purpose": "设备购置",
        "preferred_bank": "srcb",
        "amount_to_revenue": Decimal("0.1667"),
        "debt_ratio": Decimal("0.4444"),
        "output_per_mu": Decimal("60.0000"),
        "specialized": False,
        "firm_outstanding": Decimal(0),
        "firm_pending": Decimal(0),
        "firm_total": Decimal("2000000.00"),
        **{name: False for name in EnterpriseFlags.model_fields},
        **limits,
    }
    nullable = [name for name, spec in FIELDS.items() if spec.nullable]
    probes = [base, {**base, **dict.fromkeys(nullable)}]
    probes += [{**base, name: None} for name in nullable]
    probes.append(
        {
            **base,
            "employees": Decimal(0),
            "annual_revenue": Decimal(0),
            "total_assets": Decimal(0),
            "total_liabilities": Decimal(0),
            "land_area_mu": Decimal(0),
            "years_operating": Decimal(0),
            "amount": Decimal("0.01"),
            "term_months": Decimal(1),
            "amount_to_revenue": None,
            "debt_ratio": None,
            "output_per_mu": None,
            "specialized": True,
            **{name: True for name in EnterpriseFlags.model_fields},
        }
    )
    return probes
