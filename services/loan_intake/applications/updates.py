"""What others report about applications: the guarantee service's decisions (recorded by
the hand-off worker) and the bank gateway's loan changes (the SME's status page follows
the loan). Each is recorded once: a repeat changes nothing. Never commits."""

import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.applications import repository as repo
from services.loan_intake.applications.exceptions import ApplicationNotFound, TransitionNotAllowed
from services.loan_intake.applications.rules import (
    DECISION_STATUS,
    check_transition,
    event_row,
    lapses,
    news,
    transition,
)
from services.loan_intake.applications.schemas import ApplicationPublic
from services.loan_intake.applications.service import get_application
from services.loan_intake.models import Application, ApplicationEvent, ApplicationStatus
from shared.auth import Principal
from shared.clock import utcnow
from shared.contracts.assessment import AssessmentResult, Decision
from shared.contracts.loan_status import (
    LoanStatusUpdate,
    LoanStatusUpdateFor,
    LoanStatusUpdateOutcome,
)
from shared.contracts.reconciliation import ApplicationStatusView, ApplicationStatusViews

log = structlog.get_logger("loan_intake")


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
        check_transition(ApplicationStatus.ASSESSING, target)
        failed = [r.finding_zh or r.message_zh for r in result.reasons if not r.passed]
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
            event_row(
                result.application_id,
                ApplicationStatus.ASSESSING,
                target,
                "service:guarantee",
                why,
                now,
            )
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
        event = _entry(application, update, principal.actor)
        event.update_id = update.update_id
        event.details = {
            **update.details,
            **({"batch_id": str(update.batch_id)} if update.batch_id else {}),
            **({"bank_code": update.bank_code} if update.bank_code else {}),
            "occurred_at": update.occurred_at.isoformat(),
        }
        repo.add_event(session, event)
        if lapses(event) and not update.news:
            repo.add_lapse(session, event.application_id)
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


def _entry(application: Application, update: LoanStatusUpdateFor, actor: str) -> ApplicationEvent:
    """The history entry of an update: news leaves the status as it is."""
    if update.news:
        return news(application, actor=actor, reason=update.reason_zh)
    return transition(
        application, ApplicationStatus(update.status), actor=actor, reason=update.reason_zh
    )


def _refusal(
    application: Application | None, update: LoanStatusUpdateFor
) -> LoanStatusUpdateOutcome | None:
    def refused(slug: str, detail: str) -> LoanStatusUpdateOutcome:
        return LoanStatusUpdateOutcome(
            update_id=update.update_id, outcome="refused", problem_type=slug, detail=detail
        )

    if application is None:
        return refused(ApplicationNotFound.slug, f"没有编号为 {update.application_id} 的申请")
    if update.news:
        return None
    try:
        check_transition(ApplicationStatus(application.status), ApplicationStatus(update.status))
    except ValueError:
        return refused(TransitionNotAllowed.slug, f"未知的申请状态 {update.status}")
    except TransitionNotAllowed as error:
        return refused(TransitionNotAllowed.slug, error.detail)
    return None


async def statuses(*, session: AsyncSession, ids: list[uuid.UUID]) -> ApplicationStatusViews:
    """Each known application's status (the SME's view of its loan), for reconciliation."""
    found = await repo.statuses_of(session=session, ids=list(dict.fromkeys(ids)))
    return ApplicationStatusViews(
        items=[ApplicationStatusView(id=i, status=status) for i, status in found.items()]
    )
