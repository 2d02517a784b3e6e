"""loan_intake's rules. Never commits (the caller owns the transaction), never HTTP."""

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake import repository as repo
from services.loan_intake.exceptions import (
    ApplicationNotFound,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    NotYourEnterprise,
    TransitionNotAllowed,
)
from services.loan_intake.models import (
    DECISION_STATUS,
    STATUS_LABELS_ZH,
    TRANSITIONS,
    Application,
    ApplicationCreate,
    ApplicationEvent,
    ApplicationPage,
    ApplicationPublic,
    ApplicationStatus,
    ApplicationSummary,
    EnterprisePublic,
    HistoryEntry,
    IdempotencyRecord,
    LoanPublic,
)
from shared.auth import Principal, Role
from shared.clock import shanghai_date, utcnow
from shared.contracts.assessment import (
    AssessmentRequest,
    AssessmentResult,
    Decision,
    EnterpriseSnapshot,
    LoanRequest,
    ProposedTerms,
    Reason,
)
from shared.contracts.loan_status import (
    LoanStatusUpdate,
    LoanStatusUpdateFor,
    LoanStatusUpdateOutcome,
)
from shared.money import from_fen, to_fen
from shared.sme import SECTORS, classify, resolve_sector

ASSESSMENT_TOPIC = "assessment.requested"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

log = structlog.get_logger("loan_intake")

S = ApplicationStatus


@dataclass(frozen=True)
class Submission:
    status_code: int
    body: dict[str, Any]
    application_id: uuid.UUID
    replayed: bool


def _fingerprint(payload: ApplicationCreate) -> str:
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Submission:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "同一幂等键已用于内容不同的申请；请换一个键重新提交 "
            "(this Idempotency-Key was used for a different request body)"
        )
    return Submission(
        status_code=record.status_code,
        body=record.response,
        application_id=uuid.UUID(record.response["id"]),
        replayed=True,
    )


def check_transition(current: ApplicationStatus, to: ApplicationStatus) -> None:
    if to not in TRANSITIONS[current]:
        raise TransitionNotAllowed(
            f"申请当前为「{STATUS_LABELS_ZH[current]}」，不能变为「{STATUS_LABELS_ZH[to]}」 "
            f"({current} → {to} is not allowed)"
        )


def transition(
    application: Application, to: ApplicationStatus, *, actor: str, reason: str
) -> ApplicationEvent:
    """Move ``application`` to ``to`` if DESIGN.md §4 allows it; return the history entry."""
    current = ApplicationStatus(application.status)
    check_transition(current, to)
    now = utcnow()
    application.status = to.value
    application.updated_at = now
    return ApplicationEvent(
        application_id=application.id,
        from_status=current.value,
        to_status=to.value,
        actor=actor,
        reason=reason,
        at=now,
    )


async def submit_application(
    *,
    session: AsyncSession,
    principal: Principal,
    payload: ApplicationCreate,
    idempotency_key: str | None,
    request_id: str | None,
) -> Submission:
    """Store an application, record its history and queue its assessment — one transaction.

    This is the hot path of the platform, so it writes plain rows with prepared Core
    statements (no ORM unit of work) and makes no call to another service.
    """
    if principal.role is Role.SME and principal.tenant != payload.enterprise.uscc:
        raise NotYourEnterprise(
            f"您的账号属于 {principal.tenant}，不能为 {payload.enterprise.uscc} 提交申请"
        )
    fingerprint = _fingerprint(payload)
    if idempotency_key is not None:
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidIdempotencyKey("幂等键应为 1–200 个可见 ASCII 字符")
        record = await repo.get_idempotency_record(
            session=session, client=principal.actor, key=idempotency_key
        )
        if record is not None:
            return _replay(record, fingerprint)

    now = utcnow()
    snapshot = _snapshot(payload)
    application_id = uuid.uuid4()
    application = {
        "id": application_id,
        "enterprise_uscc": snapshot.uscc,
        "enterprise_snapshot": snapshot.model_dump(mode="json"),
        "amount_fen": to_fen(payload.loan.amount),
        "term_months": payload.loan.term_months,
        "purpose": payload.loan.purpose,
        "preferred_bank": payload.loan.preferred_bank,
        "status": S.ASSESSING.value,
        "decision": None,
        "score": None,
        "reasons": None,
        "terms": None,
        "assessment_id": None,
        "policy_version_id": None,
        "policy_name": None,
        "submitted_by": principal.actor,
        "created_at": now,
        "updated_at": now,
        "assessed_at": None,
    }
    check_transition(S.SUBMITTED, S.ASSESSING)
    events = [
        _event(
            application_id,
            None,
            S.SUBMITTED,
            principal.actor,
            "企业在线提交申请 (submitted online)",
            now,
        ),
        _event(
            application_id,
            S.SUBMITTED,
            S.ASSESSING,
            "system:loan_intake",
            "已提交担保中心评估 (sent to the guarantee service for assessment)",
            now,
        ),
    ]
    request = AssessmentRequest(
        application_id=application_id,
        submitted_at=now,
        as_of=shanghai_date(now),
        enterprise=snapshot,
        loan=LoanRequest(
            amount=payload.loan.amount,
            term_months=payload.loan.term_months,
            purpose=payload.loan.purpose,
            preferred_bank=payload.loan.preferred_bank,
        ),
    )
    outbox = {
        "topic": ASSESSMENT_TOPIC,
        "aggregate_id": application_id,
        "payload": request.model_dump(mode="json"),
        "request_id": request_id,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "last_error": None,
        "created_at": now,
        "completed_at": None,
        "failed_at": None,
    }
    body = to_public(application=application, events=events).model_dump(mode="json")
    idempotency = (
        {
            "client": principal.actor,
            "key": idempotency_key,
            "fingerprint": fingerprint,
            "status_code": 202,
            "response": body,
            "created_at": now,
        }
        if idempotency_key is not None
        else None
    )
    try:
        await repo.insert_submission(
            session=session,
            enterprise=_enterprise_row(snapshot),
            application=application,
            events=events,
            outbox=outbox,
            idempotency=idempotency,
            now=now,
        )
    except IntegrityError:
        # The same key committed by a concurrent request between our look-up and now.
        await session.rollback()
        record = await repo.get_idempotency_record(
            session=session, client=principal.actor, key=idempotency_key or ""
        )
        if record is None:
            raise
        return _replay(record, fingerprint)
    log.info(
        "application.submitted",
        application_id=str(application_id),
        uscc=snapshot.uscc,
        amount=str(payload.loan.amount),
        sme_size=snapshot.sme_size.value,
    )
    return Submission(202, body, application_id, replayed=False)


def _event(
    application_id: uuid.UUID,
    from_status: ApplicationStatus | None,
    to_status: ApplicationStatus,
    actor: str,
    reason: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value,
        "actor": actor,
        "reason": reason,
        "at": at,
        "update_id": None,
        "details": None,
    }


def _snapshot(payload: ApplicationCreate) -> EnterpriseSnapshot:
    data = payload.enterprise
    sector = resolve_sector(data.sector)
    return EnterpriseSnapshot(
        uscc=data.uscc,
        name=data.name,
        registered_district=data.registered_district,
        industry_code=sector.industry_code,
        sme_sector=sector.sme_sector,
        sme_size=classify(
            sector.sme_sector,
            employees=data.employees,
            revenue=data.annual_revenue,
            assets=data.total_assets,
        ),
        employees=data.employees,
        annual_revenue=data.annual_revenue,
        total_assets=data.total_assets,
        total_liabilities=data.total_liabilities,
        land_area_mu=data.land_area_mu,
        established_on=data.established_on,
        flags=data.flags,
    )


def _enterprise_row(snapshot: EnterpriseSnapshot) -> dict[str, Any]:
    return {
        "uscc": snapshot.uscc,
        "name": snapshot.name,
        "registered_district": snapshot.registered_district,
        "industry_code": snapshot.industry_code,
        "sme_sector": snapshot.sme_sector,
        "sme_size": snapshot.sme_size.value,
        "employees": snapshot.employees,
        "annual_revenue_fen": to_fen(snapshot.annual_revenue),
        "total_assets_fen": to_fen(snapshot.total_assets),
        "established_on": snapshot.established_on,
        "flags": snapshot.flags.model_dump(),
    }


def _row(model: Application | ApplicationEvent) -> Mapping[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def to_public(
    *, application: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
) -> ApplicationPublic:
    snapshot = EnterpriseSnapshot.model_validate(application["enterprise_snapshot"])
    status = ApplicationStatus(application["status"])
    return ApplicationPublic(
        id=application["id"],
        status=status,
        status_label=STATUS_LABELS_ZH[status],
        enterprise=EnterprisePublic(
            **snapshot.model_dump(exclude={"sme_size"}),
            sme_size=snapshot.sme_size,
            sme_size_label=snapshot.sme_size.label_zh,
            sme_sector_name=SECTORS[snapshot.sme_sector].name_zh,
        ),
        loan=LoanPublic(
            amount=from_fen(application["amount_fen"]),
            term_months=application["term_months"],
            purpose=application["purpose"],
            preferred_bank=application["preferred_bank"],
        ),
        decision=Decision(application["decision"]) if application["decision"] else None,
        score=application["score"],
        reasons=[Reason.model_validate(r) for r in application["reasons"]]
        if application["reasons"] is not None
        else None,
        terms=ProposedTerms.model_validate(application["terms"]) if application["terms"] else None,
        policy_name=application["policy_name"],
        policy_version_id=application["policy_version_id"],
        assessment_id=application["assessment_id"],
        submitted_by=application["submitted_by"],
        created_at=application["created_at"],
        updated_at=application["updated_at"],
        assessed_at=application["assessed_at"],
        history=[
            HistoryEntry(
                from_status=ApplicationStatus(e["from_status"]) if e["from_status"] else None,
                to_status=ApplicationStatus(e["to_status"]),
                to_status_label=STATUS_LABELS_ZH[ApplicationStatus(e["to_status"])],
                actor=e["actor"],
                reason=e["reason"],
                at=e["at"],
                details=e["details"],
            )
            for e in events
        ],
        links={"self": f"/v1/applications/{application['id']}"},
    )


def _tenant_filter(principal: Principal) -> str | None:
    return principal.tenant if principal.role is Role.SME else None


async def get_application(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> ApplicationPublic:
    application = await repo.get_application(
        session=session, application_id=application_id, tenant=_tenant_filter(principal)
    )
    if application is None:
        # Another tenant's application is indistinguishable from a missing one.
        raise ApplicationNotFound(f"没有编号为 {application_id} 的申请")
    events = await repo.list_events(session=session, application_id=application.id)
    return to_public(application=_row(application), events=[_row(e) for e in events])


async def list_applications(
    *,
    session: AsyncSession,
    principal: Principal,
    status: ApplicationStatus | None,
    page: int,
    page_size: int,
    oldest_first: bool = False,
) -> ApplicationPage:
    rows, total = await repo.list_applications(
        session=session,
        tenant=_tenant_filter(principal),
        status=status.value if status else None,
        offset=(page - 1) * page_size,
        limit=page_size,
        oldest_first=oldest_first,
    )
    return ApplicationPage(
        items=[
            ApplicationSummary(
                id=a.id,
                enterprise_uscc=a.enterprise_uscc,
                enterprise_name=a.enterprise_snapshot["name"],
                amount=from_fen(a.amount_fen),
                term_months=a.term_months,
                preferred_bank=a.preferred_bank,
                status=ApplicationStatus(a.status),
                status_label=STATUS_LABELS_ZH[ApplicationStatus(a.status)],
                decision=Decision(a.decision) if a.decision else None,
                score=a.score,
                created_at=a.created_at,
            )
            for a in rows
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


async def withdraw_application(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID, reason: str
) -> ApplicationPublic:
    application = await repo.get_application(
        session=session,
        application_id=application_id,
        tenant=_tenant_filter(principal),
        for_update=True,
    )
    if application is None:
        raise ApplicationNotFound(f"没有编号为 {application_id} 的申请")
    event = transition(application, S.WITHDRAWN, actor=principal.actor, reason=reason)
    session.add(event)
    await session.flush()
    log.info("application.withdrawn", application_id=str(application_id))
    return await get_application(
        session=session, principal=principal, application_id=application_id
    )


async def review_referred(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    decision: ApplicationStatus,
    note: str,
) -> ApplicationPublic:
    """The finance bureau decides a referred application: eligible or ineligible, with why."""
    application = await repo.get_application(
        session=session, application_id=application_id, tenant=None, for_update=True
    )
    if application is None:
        raise ApplicationNotFound(f"没有编号为 {application_id} 的申请")
    if application.status != S.REFERRED.value:
        raise TransitionNotAllowed(
            f"申请当前为「{STATUS_LABELS_ZH[ApplicationStatus(application.status)]}」，"
            "只有转人工复核的申请由财政局决定"
        )
    verdict = "符合条件" if decision is S.ELIGIBLE else "不符合条件"
    event = transition(
        application, decision, actor=principal.actor, reason=f"财政局复核：{verdict}。{note}"
    )
    session.add(event)
    await session.flush()
    log.info(
        "application.reviewed",
        application_id=str(application_id),
        decision=decision.value,
        actor=principal.actor,
    )
    return await get_application(
        session=session, principal=principal, application_id=application_id
    )


async def record_assessments(
    *, session: AsyncSession, results: Sequence[AssessmentResult]
) -> set[uuid.UUID]:
    """Store the guarantee service's decisions for a batch; return the applications changed.

    Only applications still ``assessing`` change: a decision delivered twice, or for an
    application withdrawn meanwhile, is recorded once or not at all.
    """
    waiting = await repo.lock_assessing(
        session=session, application_ids=[r.application_id for r in results]
    )
    now = utcnow()
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for result in results:
        if result.application_id not in waiting:
            continue
        target = DECISION_STATUS[result.decision]
        check_transition(S.ASSESSING, target)
        failed = [r.message_zh for r in result.reasons if not r.passed]
        why = f"担保评估：{_DECISION_ZH[result.decision]}，得分 {result.score}"
        if failed:
            why += "；" + "；".join(failed)
        updates.append(
            {
                "id": result.application_id,
                "status": target.value,
                "decision": result.decision.value,
                "score": result.score,
                "reasons": [r.model_dump(mode="json") for r in result.reasons],
                "terms": result.terms.model_dump(mode="json") if result.terms else None,
                "assessment_id": result.assessment_id,
                "policy_version_id": result.policy_version_id,
                "policy_name": f"{result.policy_name} v{result.policy_version}",
                "assessed_at": now,
                "updated_at": now,
            }
        )
        events.append(
            _event(result.application_id, S.ASSESSING, target, "service:guarantee", why, now)
        )
        waiting.discard(result.application_id)
    await repo.apply_assessments(session=session, updates=updates, events=events)
    return {u["id"] for u in updates}


_DECISION_ZH = {
    Decision.ELIGIBLE: "符合条件",
    Decision.INELIGIBLE: "不符合条件",
    Decision.REFERRED: "转人工复核",
}


async def apply_loan_update(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    update: LoanStatusUpdate,
) -> tuple[ApplicationPublic, bool]:
    """A change the bank gateway reports; (the application, whether it changed anything).

    The same ``update_id`` again changes nothing and answers the same, so the gateway may
    redeliver freely. A change the state machine does not allow is refused (409)."""
    [outcome] = await apply_loan_updates(
        session=session,
        principal=principal,
        updates=[LoanStatusUpdateFor(**update.model_dump(), application_id=application_id)],
    )
    if outcome.outcome == "refused":
        if outcome.problem_type == ApplicationNotFound.slug:
            raise ApplicationNotFound(outcome.detail or "")
        raise TransitionNotAllowed(outcome.detail or "")
    public = await get_application(
        session=session, principal=principal, application_id=application_id
    )
    return public, outcome.outcome == "applied"


async def apply_loan_updates(
    *, session: AsyncSession, principal: Principal, updates: Sequence[LoanStatusUpdateFor]
) -> list[LoanStatusUpdateOutcome]:
    """Changes the bank gateway reports, in order, each applied or refused on its own.

    A few queries whatever the number: the update ids already recorded, the applications
    (locked, in id order); everything written in one flush. A refused update holds back
    the later ones of its application (``skipped``: the gateway sends them again)."""
    for attempt in (1, 2):
        try:
            async with session.begin_nested():
                return await _apply_loan_updates(session, principal, updates)
        except IntegrityError:
            # Some of these update ids were recorded by a concurrent delivery meanwhile:
            # once more, and they are found and answered as duplicates.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _apply_loan_updates(
    session: AsyncSession, principal: Principal, updates: Sequence[LoanStatusUpdateFor]
) -> list[LoanStatusUpdateOutcome]:
    seen = await repo.recorded_update_ids(
        session=session, update_ids=[u.update_id for u in updates]
    )
    applications = await repo.lock_applications(
        session=session, application_ids={u.application_id for u in updates}
    )
    held_back: set[uuid.UUID] = set()
    outcomes = []
    for update in updates:
        application = applications.get(update.application_id)
        if update.update_id in seen:
            outcomes.append(
                LoanStatusUpdateOutcome(update_id=update.update_id, outcome="duplicate")
            )
            continue
        if update.application_id in held_back:
            outcomes.append(
                LoanStatusUpdateOutcome(
                    update_id=update.update_id,
                    outcome="skipped",
                    detail="an earlier update of this application was refused",
                )
            )
            continue
        refusal = _refusal(application, update)
        if refusal is not None:
            held_back.add(update.application_id)
            outcomes.append(refusal)
            continue
        assert application is not None
        event = transition(
            application,
            ApplicationStatus(update.status),
            actor=principal.actor,
            reason=update.reason_zh,
        )
        event.update_id = update.update_id
        event.details = {
            **update.details,
            **({"batch_id": str(update.batch_id)} if update.batch_id else {}),
            **({"bank_code": update.bank_code} if update.bank_code else {}),
            "occurred_at": update.occurred_at.isoformat(),
        }
        session.add(event)
        seen.add(update.update_id)
        outcomes.append(LoanStatusUpdateOutcome(update_id=update.update_id, outcome="applied"))
        log.info(
            "application.loan_update",
            application_id=str(update.application_id),
            status=update.status,
            update_id=str(update.update_id),
        )
    await session.flush()
    return outcomes


def _refusal(
    application: Application | None, update: LoanStatusUpdateFor
) -> LoanStatusUpdateOutcome | None:
    def refused(slug: str, detail: str) -> LoanStatusUpdateOutcome:
        return LoanStatusUpdateOutcome(
            update_id=update.update_id, outcome="refused", problem_type=slug, detail=detail
        )

    if application is None:
        return refused(ApplicationNotFound.slug, f"没有编号为 {update.application_id} 的申请")
    try:
        check_transition(ApplicationStatus(application.status), ApplicationStatus(update.status))
    except ValueError:
        return refused(TransitionNotAllowed.slug, f"未知的申请状态 {update.status}")
    except TransitionNotAllowed as error:
        return refused(TransitionNotAllowed.slug, error.detail)
    return None
