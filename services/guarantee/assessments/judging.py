"""An application judged on its firm's facts as the reference lists in force show them, not
as declared (issue 18): the evaluation runs on the resolved facts, each fact's standing and
source go into the trace (so a replay or a what-if sees them as they were), the firm reads
what was checked against which list, and a benefit declared only is referred to the bureau
when the policy says so. Pure."""

from dataclasses import replace
from typing import Any

from services.guarantee.facts.kinds import ListKind
from services.guarantee.facts.resolution import Fact, Listing, Resolved
from services.guarantee.policies.compiler import CompiledPolicy
from services.guarantee.policies.evaluation import Evaluation, evaluate
from services.guarantee.policies.fields import FirmExposure, as_assessed
from shared.contracts.assessment import (
    CHECK_ZH,
    AssessmentRequest,
    Attestation,
    Decision,
    EnterpriseFlags,
    Reason,
)


def fact_trace(resolved: Resolved) -> list[dict[str, Any]]:
    return [
        {
            "flag": f.flag,
            "declared": f.declared,
            "value": f.value,
            "standing": f.standing,
            "source": (
                {
                    "list_id": f.source.list_id,
                    "kind": f.source.kind.value,
                    "title": f.source.title,
                    "issuer": f.source.issuer,
                    "batch": f.source.batch,
                }
                if f.source
                else None
            ),
            **({"attested": f.attestation.model_dump(mode="json")} if f.attestation else {}),
        }
        for f in resolved.facts
    ]


def resolved_of_trace(trace: dict[str, Any], declared: EnterpriseFlags) -> Resolved:
    """The facts an assessment went by; for one made before lists were checked, as declared
    (each fact standing as the firm's word)."""
    facts = [
        Fact(
            flag=f["flag"],
            declared=bool(f["declared"]),
            value=bool(f["value"]),
            standing=f["standing"],
            source=(
                Listing(
                    list_id=f["source"]["list_id"],
                    kind=ListKind(f["source"]["kind"]),
                    title=f["source"]["title"],
                    issuer=f["source"]["issuer"],
                    batch=f["source"]["batch"],
                )
                if f.get("source")
                else None
            ),
            attestation=Attestation.model_validate(f["attested"]) if f.get("attested") else None,
        )
        for f in trace.get("facts") or []
    ]
    if not facts:
        return Resolved(declared, [])
    return Resolved(EnterpriseFlags(**{f.flag: f.value for f in facts}), facts)


def _label(flag: str) -> str:
    return EnterpriseFlags.model_fields[flag].description or flag


def _named(source: Listing) -> str:
    return f"《{source.title}》（{source.issuer}，{source.batch}）"


IGNORED = "本次按未申报评估；如有证书，可向财政局申请复核"


def fact_reasons(resolved: Resolved) -> list[Reason]:
    """What the firm reads about its facts: verified (the list named), declared only, or
    contradicted by a list."""
    reasons = []
    for f in resolved.facts:
        label, code = _label(f.flag), f"fact.{f.flag}"
        if f.standing == "verified" and f.source is not None:
            reasons.append(
                Reason(
                    code=code,
                    passed=True,
                    message_zh=f"{label}：经{_named(f.source)}核验",
                    message_en=f"{f.flag}: verified against a reference list",
                )
            )
        elif f.standing == "contradicted" and f.source is not None:
            reasons.append(
                Reason(
                    code=code,
                    passed=False,
                    message_zh=f"{label}：以名单为准",
                    message_en=f"{f.flag}: the reference list prevails over the declaration",
                    finding_zh=f"申请未申报此项，但企业在{_named(f.source)}中",
                )
            )
        elif f.standing == "attested" and f.attestation is not None:
            reasons.append(_attested(label, code, f.value, f.attestation))
        elif f.standing == "declared_only":
            then = (
                "已转财政局核实证书"
                if f.value
                else "本次按未申报评估；如有证书，可向财政局申请复核"
            )
            reasons.append(
                Reason(
                    code=code,
                    passed=False,
                    message_zh=f"{label}：须经生效名单核验",
                    message_en=f"{f.flag}: declared, on no reference list in force",
                    finding_zh=f"企业申报为{label}，但评估日生效的名单中未见该企业，{then}",
                )
            )
    return reasons


def _attested(label: str, code: str, found: bool, check: Attestation) -> Reason:
    by = (
        f"合作银行（{check.bank_code}）{check.checked_by}于 {check.checked_on} 查询"
        f"{CHECK_ZH[check.check]}{f'（编号 {check.reference}）' if check.reference else ''}"
    )
    if not found:
        return Reason(
            code=code,
            passed=True,
            message_zh=f"{label}：经{by}，未见",
            message_en=f"{code}: checked by the lending bank, nothing found",
        )
    return Reason(
        code=code,
        passed=False,
        message_zh=f"{label}：以银行核查为准",
        message_en=f"{code}: the lending bank's check found it",
        finding_zh=f"{by}，发现企业{label}",
    )


def judged(
    policy: CompiledPolicy, request: AssessmentRequest, firm: FirmExposure, resolved: Resolved
) -> Evaluation:
    trace_facts = fact_trace(resolved)
    evaluation = evaluate(policy, as_assessed(request, trace_facts), firm)
    reasons = [*fact_reasons(resolved), *evaluation.reasons]
    decision = evaluation.decision
    if resolved.to_refer and decision is Decision.ELIGIBLE:
        decision = Decision.REFERRED
    if trace_facts:  # an assessment from before lists were checked has none: replayed as it was
        evaluation.trace["facts"] = trace_facts
    return replace(evaluation, decision=decision, reasons=reasons)
