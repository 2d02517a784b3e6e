"""The comparison a what-if reports: counts of each decision, the approval rate, guaranteed
volume and fee subsidy (sums in fen), and for each changed case the rules, factors and
terms that differ. Pure: it runs in worker processes too."""

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from services.guarantee.assessments.judging import judged, resolved_of_trace
from services.guarantee.facts.resolution import Trial, attested_by_flag, resolve
from services.guarantee.policies.compiler import CompiledPolicy, compile_policy
from services.guarantee.policies.document import PolicyDocument
from services.guarantee.policies.evaluation import Evaluation
from services.guarantee.policies.fields import FirmExposure
from shared.contracts.assessment import AssessmentRequest, Decision
from shared.money import from_fen, to_fen


def _fen(terms: dict[str, Any] | None, name: str) -> int:
    if not terms or terms.get(name) is None:
        return 0
    return to_fen(Decimal(terms[name]))


@dataclass
class Side:
    """One side (before or after) of the comparison."""

    decisions: Counter[str] = field(default_factory=Counter)
    guaranteed_fen: int = 0
    fee_subsidy_fen: int = 0

    def add(self, decision: str, terms: dict[str, Any] | None) -> None:
        self.decisions[decision] += 1
        if decision == Decision.ELIGIBLE:
            self.guaranteed_fen += _fen(terms, "guaranteed_amount")
            self.fee_subsidy_fen += _fen(terms, "guarantee_fee_subsidy")

    def report(self, total: int) -> dict[str, Any]:
        eligible = self.decisions[Decision.ELIGIBLE]
        rate = (
            str((Decimal(eligible) / total).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
            if total
            else None
        )
        return {
            **{d.value: self.decisions[d.value] for d in Decision},
            "approval_rate": rate,
            "guaranteed_volume": str(from_fen(self.guaranteed_fen)),
            "fee_subsidy": str(from_fen(self.fee_subsidy_fen)),
        }


@dataclass
class Comparison:
    total: int = 0
    changed: int = 0
    before: Side = field(default_factory=Side)
    after: Side = field(default_factory=Side)
    transitions: Counter[str] = field(default_factory=Counter)
    deciding_rules: Counter[str] = field(default_factory=Counter)

    def merge(self, other: "Comparison") -> None:
        self.total += other.total
        self.changed += other.changed
        for mine, theirs in ((self.before, other.before), (self.after, other.after)):
            mine.decisions.update(theirs.decisions)
            mine.guaranteed_fen += theirs.guaranteed_fen
            mine.fee_subsidy_fen += theirs.fee_subsidy_fen
        self.transitions.update(other.transitions)
        self.deciding_rules.update(other.deciding_rules)

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "total": self.total,
            "changed": self.changed,
            "decisions_changed": sum(self.transitions.values()),
            "transitions": dict(sorted(self.transitions.items())),
            "before": self.before.report(self.total),
            "after": self.after.report(self.total),
            "rules_making_the_difference": dict(self.deciding_rules.most_common()),
        }
        if self.total == 0:
            result["message_zh"] = "该期间没有评估记录，无可比较的申请"
            result["message_en"] = "no assessments in this period: nothing to compare"
        return result


_TERMS_COMPARED = ("guaranteed_amount", "coverage_ratio", "guarantee_fee", "guarantee_fee_subsidy")


def differences(row: Any, after: Evaluation) -> dict[str, Any] | None:
    """How the stored assessment ``row`` and ``after`` differ; None when they agree."""
    before_rules = {r["code"]: r.get("passed") for r in row.rules or []}
    after_rules = {r["code"]: r["passed"] for r in after.trace["rules"]}
    # A rule counts when it fails on one side only: a rule added or removed that passes
    # (absent ↔ passed) changes nothing for the application.
    rules = [
        {"code": code, "before": before_rules.get(code), "after": after_rules.get(code)}
        for code in [*before_rules, *(c for c in after_rules if c not in before_rules)]
        if (before_rules.get(code) is False) != (after_rules.get(code) is False)
    ]
    before_points = {f["code"]: str(f["points"]) for f in row.factors or []}
    after_points = {f["code"]: f["points"] for f in after.trace["factors"]}
    factors = [
        {"code": code, "before": before_points.get(code, "0"), "after": after_points.get(code, "0")}
        for code in [*before_points, *(c for c in after_points if c not in before_points)]
        if Decimal(before_points.get(code, "0")) != Decimal(after_points.get(code, "0"))
    ]
    after_terms = after.terms.model_dump(mode="json") if after.terms else None
    terms = {
        name: [(row.terms or {}).get(name), (after_terms or {}).get(name)]
        for name in _TERMS_COMPARED
        if (row.terms or {}).get(name) != (after_terms or {}).get(name)
    }
    if row.decision == after.decision.value and row.score == after.score and not terms:
        return None
    return {"rules": rules, "factors": factors, "terms": terms}


class Stored(NamedTuple):
    """One stored assessment as a replay reads it (plain data: it may cross processes)."""

    id: uuid.UUID
    application_id: uuid.UUID
    as_of: date
    request: dict[str, Any]
    decision: str
    score: int
    terms: dict[str, Any] | None
    rules: list[dict[str, Any]] | None
    factors: list[dict[str, Any]] | None
    firm_outstanding: str | None = None
    firm_pending: str | None = None
    facts: list[dict[str, Any]] | None = None

    @property
    def firm(self) -> FirmExposure:
        return FirmExposure.of_trace(
            {
                "fields": {
                    "firm_outstanding": self.firm_outstanding,
                    "firm_pending": self.firm_pending,
                }
            }
        )


def _replayed(
    policy: CompiledPolicy, row: Stored, trial: Trial | None
) -> tuple[Stored, Evaluation]:
    """(the case before, after). A policy what-if: the stored assessment, and its input on
    its facts under the tried policy. A list what-if: both under the one policy — the lists
    the assessment went by, and the same with the tried list's kind as the trial says — so
    only the list's effect shows."""
    request = AssessmentRequest.model_validate(row.request)
    resolved = resolved_of_trace({"facts": row.facts}, request.enterprise.flags)
    if trial is None:
        return row, judged(policy, request, row.firm, resolved)
    declared, unverified = request.enterprise.flags, policy.document.facts.unverified_benefit
    uscc = request.enterprise.uscc
    went_by = {f.source.kind: f.source for f in resolved.facts if f.source is not None}
    attested = attested_by_flag(request.attestations)
    before = judged(policy, request, row.firm, resolve(declared, went_by, unverified, attested))
    tried = resolve(declared, trial.applied(resolved, uscc, row.as_of), unverified, attested)
    after = judged(policy, request, row.firm, tried)
    return as_stored(row, before), after


def as_stored(row: Stored, evaluation: Evaluation) -> Stored:
    return row._replace(
        decision=evaluation.decision.value,
        score=evaluation.score,
        terms=evaluation.terms.model_dump(mode="json") if evaluation.terms else None,
        rules=evaluation.trace["rules"],
        factors=evaluation.trace["factors"],
    )


def replay_chunk(
    policy: CompiledPolicy, rows: Sequence[Stored], job_id: uuid.UUID, trial: Trial | None = None
) -> tuple[Comparison, list[dict[str, Any]]]:
    """Assess each row again: the chunk's comparison and the rows of its changed cases."""
    comparison = Comparison()
    changes = []
    for stored in rows:
        row, after = _replayed(policy, stored, trial)
        comparison.total += 1
        comparison.before.add(row.decision, row.terms)
        after_terms = after.terms.model_dump(mode="json") if after.terms else None
        comparison.after.add(after.decision.value, after_terms)
        diff = differences(row, after)
        if diff is None:
            continue
        comparison.changed += 1
        if row.decision != after.decision.value:
            comparison.transitions[f"{row.decision}→{after.decision.value}"] += 1
            for rule in diff["rules"]:
                comparison.deciding_rules[rule["code"]] += 1
        changes.append(
            {
                "job_id": job_id,
                "assessment_id": row.id,
                "application_id": row.application_id,
                "as_of": row.as_of,
                "decision_before": row.decision,
                "decision_after": after.decision.value,
                "score_before": row.score,
                "score_after": after.score,
                "differences": diff,
            }
        )
    return comparison, changes


# In a worker process: compiled policies by content hash, as in the service itself.
_worker_policies: dict[str, CompiledPolicy] = {}


def replay_in_worker(
    document: dict[str, Any],
    policy_hash: str,
    rows: Sequence[Stored],
    job_id: uuid.UUID,
    trial: Trial | None = None,
) -> tuple[Comparison, list[dict[str, Any]]]:
    policy = _worker_policies.get(policy_hash)
    if policy is None:
        policy = compile_policy(PolicyDocument.model_validate(document))
        _worker_policies[policy_hash] = policy
    return replay_chunk(policy, rows, job_id, trial)
