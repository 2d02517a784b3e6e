"""预审 before submitting: the guarantee service says what the policy in force would decide
(caps for this firm's segment and its 在保余额 included), so an SME does not file an
application that is bound to be refused — it is told why and may still file it."""

from dataclasses import dataclass, field

from fastapi import Request

from services.loan_intake.applications import submission
from services.loan_intake.applications.schemas import ApplicationCreate
from services.loan_intake.clients import GuaranteeRefused, GuaranteeUnavailable
from shared.contracts.assessment import Decision
from shared.money import yuan


@dataclass(frozen=True)
class Foreseen:
    """A refusal foreseen: what to fix on the form, and every finding."""

    errors: dict[str, str] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)


async def precheck(request: Request, payload: ApplicationCreate) -> Foreseen | None:
    """What the form must show before submitting, or None: the policy would not refuse it,
    or the guarantee service cannot tell now (the assessment after submitting decides)."""
    try:
        seen = await request.app.state.guarantee.preview(submission.preview_request(payload))
    except (GuaranteeUnavailable, GuaranteeRefused):
        return None
    if seen.decision is not Decision.INELIGIBLE:
        return None
    errors = {}
    if payload.loan.amount > seen.max_amount:
        errors["loan.amount"] = f"超过本企业适用的单户上限 {yuan(seen.max_amount)}"
    if payload.loan.term_months > seen.max_term_months:
        errors["loan.term_months"] = f"超过期限上限 {seen.max_term_months} 个月"
    return Foreseen(errors=errors, findings=seen.findings_zh)
