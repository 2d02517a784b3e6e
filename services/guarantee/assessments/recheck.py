"""备案 against the lists in force on the day, not only those of the assessment (issue 18):
a firm added to 失信被执行人 since it was assessed, or dropped from the 专精特新 list whose cap
its loan needs, is not guaranteed a new loan — when the policy says so
(``facts.at_filing: recheck``). Never commits."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.assessments.judging import judged, resolved_of_trace
from services.guarantee.facts import service as facts
from services.guarantee.facts.resolution import Resolved
from services.guarantee.models import Assessment, PolicyVersion
from services.guarantee.policies.compiler import DocumentInvalid
from services.guarantee.policies.documents import compiled_policy
from services.guarantee.policies.fields import FirmExposure
from shared.contracts.assessment import AssessmentRequest, Decision, EnterpriseFlags


async def facts_changed_findings(
    *,
    session: AsyncSession,
    assessment: Assessment,
    policy: PolicyVersion,
    principal: Decimal,
    on: date,
) -> list[str]:
    """Why the loan would be ineligible were the application judged today with the lists in
    force (its own policy, the firm's exposure as it was, the amount the bank lent); empty
    when the firm's facts are as they were, or still allow it."""
    try:
        compiled = compiled_policy(policy)
    except (ValidationError, DocumentInvalid):
        return []  # a version stored before migration 0002: nothing to judge by
    rules = compiled.document.facts
    if rules.at_filing != "recheck":
        return []
    request = AssessmentRequest.model_validate(assessment.request)
    declared = request.enterprise.flags
    now = await facts.resolve_facts(
        session=session,
        uscc=request.enterprise.uscc,
        declared=declared,
        on=on,
        unverified=rules.unverified_benefit,
        attestations=request.attestations,
    )
    if not assessment.trace.get("facts"):
        now = _bars_only(now)
    then = resolved_of_trace(assessment.trace, declared)
    went_by = {f.flag: f.value for f in then.facts}
    changed = {f"fact.{f.flag}" for f in now.facts if went_by.get(f.flag) != f.value}
    if not changed:
        return []
    lent = request.model_copy(
        update={"loan": request.loan.model_copy(update={"amount": principal})}
    )
    again = judged(compiled, lent, FirmExposure.of_trace(assessment.trace), now)
    if again.decision is not Decision.INELIGIBLE:
        return []
    # What changed and the rules it now fails (not what was already so when assessed).
    return [
        r.finding_zh or r.message_zh
        for r in again.reasons
        if not r.passed and (r.code in changed or not r.code.startswith("fact."))
    ]


def _bars_only(resolved: Resolved) -> Resolved:
    """For an assessment made before facts were checked against lists (it went by the
    firm's word): a bar a list now names counts; a benefit no list shows says nothing new —
    the lists may simply not have been imported when it was assessed."""
    kept = [
        replace(f, value=f.declared, standing="declared") if f.standing == "declared_only" else f
        for f in resolved.facts
    ]
    return Resolved(EnterpriseFlags(**{f.flag: f.value for f in kept}), kept)
