"""Assessments: an application assessed under the policy in force on its as-of date, with
everything needed to reproduce it (input, version, content hash, trace). Never commits,
never HTTP. An application is assessed once: asked again, it gets its first assessment."""

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.assessments import repository as repo
from services.guarantee.assessments.exceptions import (
    AssessmentConflict,
    AssessmentNotFound,
    AssessmentNotReplayable,
)
from services.guarantee.assessments.judging import judged, resolved_of_trace
from services.guarantee.assessments.schemas import AssessmentPublic, AssessmentReplay
from services.guarantee.facts import service as facts
from services.guarantee.facts.kinds import ListKind
from services.guarantee.facts.resolution import Listing, attested_by_flag, resolve
from services.guarantee.models import Assessment, PolicyVersion
from services.guarantee.policies import service as policies
from services.guarantee.policies.compiler import DocumentInvalid
from services.guarantee.policies.documents import compiled_policy
from services.guarantee.policies.exceptions import NoPolicyInForce
from services.guarantee.policies.fields import FirmExposure
from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.assessment import (
    AssessmentBatchItem,
    AssessmentBatchOutcome,
    AssessmentPreview,
    AssessmentRequest,
    AssessmentResult,
    Decision,
    ItemProblem,
    ProposedTerms,
    Reason,
)
from shared.errors import AppError
from shared.money import from_fen

log = structlog.get_logger("guarantee")


def fingerprint(request: AssessmentRequest) -> str:
    # Without attestations, as before they existed: a request re-sent across the upgrade
    # is the same request.
    unattested = {"attestations"} if not request.attestations else None
    return hashlib.sha256(request.model_dump_json(exclude=unattested).encode()).hexdigest()


def to_result(assessment: Mapping[str, Any], policy: PolicyVersion) -> AssessmentResult:
    return AssessmentResult(
        assessment_id=assessment["id"],
        application_id=assessment["application_id"],
        decision=Decision(assessment["decision"]),
        score=assessment["score"],
        reasons=[Reason.model_validate(r) for r in assessment["reasons"]],
        terms=ProposedTerms.model_validate(assessment["terms"]) if assessment["terms"] else None,
        policy_version_id=policy.id,
        policy_name=policy.name,
        policy_version=policy.version,
        assessed_at=assessment["created_at"],
    )


def _row(assessment: Assessment) -> dict[str, Any]:
    return {name: getattr(assessment, name) for name in Assessment.model_fields}


class _Policies:
    """The policy in force per as-of date, looked up once per batch."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._by_date: dict[date, PolicyVersion | None] = {}
        self._by_id: dict[uuid.UUID, PolicyVersion] = {}

    async def in_force(self, on: date) -> PolicyVersion | None:
        if on not in self._by_date:
            policy = await policies.in_force(session=self._session, on=on)
            self._by_date[on] = policy
            if policy is not None:
                self._by_id[policy.id] = policy
        return self._by_date[on]

    async def by_id(self, policy_id: uuid.UUID) -> PolicyVersion:
        if policy_id not in self._by_id:
            self._by_id[policy_id] = await policies.get_version(
                session=self._session, policy_id=policy_id
            )
        return self._by_id[policy_id]


def _problem(error: AppError) -> ItemProblem:
    return ItemProblem(type=error.type, title=error.title, status=error.status, detail=error.detail)


def _assessed(
    request: AssessmentRequest,
    fp: str,
    policy: PolicyVersion,
    principal: Principal,
    request_id: str | None,
    firm: FirmExposure,
    listed: Mapping[ListKind, Listing],
) -> dict[str, Any]:
    """A new assessment's row: the request assessed under ``policy`` on the firm's facts as
    the lists in force show them (``listed``), its whole trace."""
    compiled = compiled_policy(policy)
    resolved = resolve(
        request.enterprise.flags,
        listed,
        compiled.document.facts.unverified_benefit,
        attested_by_flag(request.attestations),
    )
    evaluation = judged(compiled, request, firm, resolved)
    log.info(
        "assessment.decided",
        request_id=request_id,
        application_id=str(request.application_id),
        decision=evaluation.decision.value,
        score=evaluation.score,
        policy=f"{policy.name} v{policy.version}",
    )
    return {
        "id": uuid.uuid4(),
        "application_id": request.application_id,
        "enterprise_uscc": request.enterprise.uscc,
        "fingerprint": fp,
        "request": request.model_dump(mode="json"),
        "policy_version_id": policy.id,
        "policy_hash": policy.content_hash,
        "as_of": request.as_of,
        "decision": evaluation.decision.value,
        "score": evaluation.score,
        "reasons": [r.model_dump(mode="json") for r in evaluation.reasons],
        "terms": evaluation.terms.model_dump(mode="json") if evaluation.terms else None,
        "trace": evaluation.trace,
        "requested_by": principal.actor,
        "created_at": utcnow(),
    }


async def firm_exposure(session: AsyncSession, uscc: str) -> FirmExposure:
    """The firm's 在保余额 and applications in flight, read under the firm's lock (held to
    the end of the transaction: the assessment or filing that reads it is recorded first)."""
    return (await firms_exposure(session, {uscc}))[uscc]


async def firms_exposure(session: AsyncSession, usccs: set[str]) -> dict[str, FirmExposure]:
    """:func:`firm_exposure` of every firm of a batch: locked up front, read in two queries
    (not four per firm: a batch of 250 applications was 1,000 round trips, bench/README.md)."""
    await repo.lock_firms(session=session, usccs=usccs)
    return await _exposures(session, usccs)


async def _exposures(session: AsyncSession, usccs: set[str]) -> dict[str, FirmExposure]:
    outstanding = await repo.firms_outstanding_fen(session=session, usccs=usccs)
    pending = await repo.firms_pending_requests(session=session, usccs=usccs)
    return {
        uscc: FirmExposure(
            outstanding=from_fen(outstanding.get(uscc, 0)),
            pending=sum(
                (Decimal(r["loan"]["amount"]) for r in pending.get(uscc, [])), start=Decimal(0)
            ),
        )
        for uscc in usccs
    }


async def record_lapses(*, session: AsyncSession, application_ids: Sequence[uuid.UUID]) -> int:
    """Applications that will never be lent: their amounts stop counting against their
    firms' caps. Told again: nothing changes."""
    for attempt in (1, 2):
        try:
            async with session.begin_nested():
                return await repo.record_lapses(session=session, application_ids=application_ids)
        except IntegrityError:
            if attempt == 2:  # told at the same moment by two deliveries: once more
                raise
    raise AssertionError("unreachable")


def _refused(request: AssessmentRequest, error: AppError) -> tuple[AssessmentBatchOutcome, bool]:
    return AssessmentBatchOutcome(
        application_id=request.application_id, problem=_problem(error)
    ), False


async def _again(
    request: AssessmentRequest, fp: str, previous: Mapping[str, Any], versions: "_Policies"
) -> tuple[AssessmentBatchOutcome, bool]:
    """An application assessed before: its first assessment, or a conflict if it changed."""
    if previous["fingerprint"] != fp:
        when = f"{previous['created_at']:%Y-%m-%d %H:%M}"
        return _refused(
            request,
            AssessmentConflict(f"申请 {request.application_id} 已于 {when} 评估，内容与本次不同"),
        )
    policy = await versions.by_id(previous["policy_version_id"])
    result = to_result(previous, policy)
    return AssessmentBatchOutcome(application_id=result.application_id, result=result), False


async def _assess_all(
    *,
    session: AsyncSession,
    principal: Principal,
    requests: Sequence[tuple[AssessmentRequest, str | None]],
) -> list[tuple[AssessmentBatchOutcome, bool]]:
    """Assess each request; (outcome, created) per request, in order."""
    found = await repo.assessments_for_applications(
        session=session, application_ids=[r.application_id for r, _ in requests]
    )
    existing = {application_id: _row(a) for application_id, a in found.items()}
    new_rows: list[dict[str, Any]] = []
    versions = _Policies(session)
    # Each firm's room, read once under its lock; the batch's own new assessments added below.
    firms = await firms_exposure(session, {r.enterprise.uscc for r, _ in requests})
    listed = await facts.listings(
        session=session, wanted={(r.enterprise.uscc, r.as_of) for r, _ in requests}
    )
    results: list[tuple[AssessmentBatchOutcome, bool]] = []
    for request, request_id in requests:
        fp = fingerprint(request)
        previous = existing.get(request.application_id)
        if previous is not None:
            results.append(await _again(request, fp, previous, versions))
            continue
        policy = await versions.in_force(request.as_of)
        if policy is None:
            results.append(
                _refused(request, NoPolicyInForce(f"{request.as_of} 没有生效的担保政策"))
            )
            continue
        uscc = request.enterprise.uscc
        firm = firms[uscc]
        assessment = _assessed(
            request, fp, policy, principal, request_id, firm, listed[(uscc, request.as_of)]
        )
        # Not yet in the table (inserted below): the next of this firm in the batch sees it.
        if assessment["decision"] != Decision.INELIGIBLE.value:
            firm = replace(firm, pending=firm.pending + request.loan.amount)
        firms[uscc] = firm
        new_rows.append(assessment)
        existing[request.application_id] = assessment
        result = to_result(assessment, policy)
        results.append(
            (AssessmentBatchOutcome(application_id=result.application_id, result=result), True)
        )
    await repo.insert_assessments(session=session, rows=new_rows)
    return results


async def assess(
    *,
    session: AsyncSession,
    principal: Principal,
    requests: Sequence[tuple[AssessmentRequest, str | None]],
) -> list[tuple[AssessmentBatchOutcome, bool]]:
    """Assess a batch. An application already assessed gets its first assessment back."""
    for attempt in (1, 2):
        try:
            async with session.begin_nested():
                return await _assess_all(session=session, principal=principal, requests=requests)
        except IntegrityError:
            # Another worker assessed one of these between our look-up and our insert: once
            # more, and its assessment is then found and returned instead of a second one.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def assess_batch(
    *, session: AsyncSession, principal: Principal, items: Sequence[AssessmentBatchItem]
) -> list[AssessmentBatchOutcome]:
    results = await assess(
        session=session, principal=principal, requests=[(i.request, i.request_id) for i in items]
    )
    return [outcome for outcome, _ in results]


async def assess_one(
    *,
    session: AsyncSession,
    principal: Principal,
    request: AssessmentRequest,
    request_id: str | None,
) -> tuple[AssessmentResult, bool]:
    [(outcome, created)] = await assess(
        session=session, principal=principal, requests=[(request, request_id)]
    )
    if outcome.problem is not None:
        error_class = NoPolicyInForce if outcome.problem.status == 503 else AssessmentConflict
        raise error_class(outcome.problem.detail)
    assert outcome.result is not None
    return outcome.result, created


async def preview(*, session: AsyncSession, request: AssessmentRequest) -> AssessmentPreview:
    """The decision the policy in force would give now; read only — no lock, no row."""
    policy = await _Policies(session).in_force(request.as_of)
    if policy is None:
        raise NoPolicyInForce(f"{request.as_of} 没有生效的担保政策")
    uscc = request.enterprise.uscc
    firm = (await _exposures(session, {uscc}))[uscc]
    compiled = compiled_policy(policy)
    resolved = await facts.resolve_facts(
        session=session,
        uscc=uscc,
        declared=request.enterprise.flags,
        on=request.as_of,
        unverified=compiled.document.facts.unverified_benefit,
        attestations=request.attestations,
    )
    evaluation = judged(compiled, request, firm, resolved)
    fields = evaluation.trace["fields"]
    return AssessmentPreview(
        decision=evaluation.decision,
        score=evaluation.score,
        findings_zh=[r.finding_zh or r.message_zh for r in evaluation.reasons if not r.passed],
        max_amount=Decimal(fields["max_amount"]),
        max_term_months=int(Decimal(fields["max_term_months"])),
        firm_outstanding=firm.outstanding,
        firm_pending=firm.pending,
        policy_name=policy.name,
        policy_version=policy.version,
    )


async def get_assessment(*, session: AsyncSession, assessment_id: uuid.UUID) -> AssessmentPublic:
    assessment = await repo.get_assessment(session=session, assessment_id=assessment_id)
    if assessment is None:
        raise AssessmentNotFound(f"没有编号为 {assessment_id} 的评估")
    return AssessmentPublic.model_validate(assessment, from_attributes=True)


async def replay(*, session: AsyncSession, assessment_id: uuid.UUID) -> AssessmentReplay:
    """Assess the stored input again under the stored version and as-of date, and compare."""
    assessment = await repo.get_assessment(session=session, assessment_id=assessment_id)
    if assessment is None:
        raise AssessmentNotFound(f"没有编号为 {assessment_id} 的评估")
    policy = await policies.get_version(session=session, policy_id=assessment.policy_version_id)
    try:
        compiled = compiled_policy(policy)
    except (ValidationError, DocumentInvalid):
        # Only versions stored before migration 0002 (see docs/decisions.md).
        raise AssessmentNotReplayable(
            f"评估 {assessment_id} 所用政策 v{policy.version} 为旧格式文档"
        ) from None
    firm = FirmExposure.of_trace(assessment.trace)
    request = AssessmentRequest.model_validate(assessment.request)
    resolved = resolved_of_trace(assessment.trace, request.enterprise.flags)
    again = judged(compiled, request, firm, resolved)
    replayed = {
        "decision": again.decision.value,
        "score": again.score,
        "reasons": [r.model_dump(mode="json") for r in again.reasons],
        "terms": again.terms.model_dump(mode="json") if again.terms else None,
        "trace": again.trace,
    }
    differences = [name for name, value in replayed.items() if getattr(assessment, name) != value]
    return AssessmentReplay(
        assessment_id=assessment.id,
        policy_version_id=policy.id,
        policy_hash=policy.content_hash,
        policy_hash_matches=policy.content_hash == assessment.policy_hash,
        identical=not differences and policy.content_hash == assessment.policy_hash,
        differences=differences,
    )
