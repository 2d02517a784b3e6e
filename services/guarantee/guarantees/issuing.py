"""A guarantee as issued: its terms frozen from the assessment and its policy version,
and what the policy version allows the loan filed. Pure."""

from decimal import Decimal

from services.guarantee.guarantees.filing import FilingTerms
from services.guarantee.models import Assessment, Guarantee, PolicyVersion
from services.guarantee.policies.documents import compiled_policy
from services.guarantee.policies.fees import FeeRules, fee_rules, fee_schedule
from shared.contracts.guarantee import GuaranteeFiling
from shared.money import round_to_fen, to_fen


def fee_rules_of(policy: PolicyVersion, rate: str, share: str) -> FeeRules:
    return fee_rules(compiled_policy(policy).document.terms, Decimal(rate), Decimal(share))


def frozen(filing: GuaranteeFiling, assessment: Assessment, policy: PolicyVersion) -> Guarantee:
    """The guarantee of a filing, its terms frozen from the assessment, its fee schedule."""
    terms = assessment.terms or {}
    coverage = Decimal(terms["coverage_ratio"])
    schedule = fee_schedule(
        principal=filing.principal,
        disbursed_on=filing.disbursed_on,
        maturity_on=filing.maturity_on,
        rules=fee_rules_of(policy, terms["annual_fee_rate"], terms["fee_subsidy_share"]),
    )
    return Guarantee(
        loan_id=filing.loan_id,
        application_id=filing.application_id,
        assessment_id=assessment.id,
        batch_id=filing.batch_id,
        bank_code=filing.bank_code,
        policy_version_id=assessment.policy_version_id,
        policy_hash=assessment.policy_hash,
        filing=filing.model_dump(mode="json"),
        principal_fen=to_fen(filing.principal),
        guaranteed_fen=to_fen(round_to_fen(filing.principal * coverage)),
        coverage_ratio=terms["coverage_ratio"],
        annual_fee_rate=terms["annual_fee_rate"],
        fee_subsidy_share=terms["fee_subsidy_share"],
        interest_subsidy_share=terms["interest_subsidy_share"],
        disbursed_on=filing.disbursed_on,
        maturity_on=filing.maturity_on,
        fee_fen=sum(to_fen(p.fee) for p in schedule),
        fee_subsidy_fen=sum(to_fen(p.subsidy) for p in schedule),
        schedule=[p.model_dump(mode="json") for p in schedule],
        enterprise_uscc=assessment.request["enterprise"]["uscc"],
        outstanding_fen=to_fen(filing.principal),
        outstanding_on=filing.disbursed_on,
        fee_subsidy_firm_annual_cap=terms.get("fee_subsidy_firm_annual_cap"),
    )


def filing_terms(policy: PolicyVersion, assessment: Assessment) -> FilingTerms:
    """What the assessment's segment of its policy version allows the loan."""
    compiled = compiled_policy(policy)
    segment = (assessment.terms or {}).get("segment")
    terms = next(
        (s.terms for s in compiled.segments if s.spec.code == segment),
        compiled.document.terms.default,
    )
    return FilingTerms(
        max_term_months=terms.max_term_months,
        max_annual_rate=terms.max_annual_rate,
        maturity_grace_days=compiled.document.bank_figures.maturity_grace_days,
        assessed_amount=Decimal(assessment.request["loan"]["amount"]),
    )
