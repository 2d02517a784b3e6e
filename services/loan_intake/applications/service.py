"""Applications as their owners and the bureau see them: read, listed, withdrawn, and
referrals decided by the bureau. Never commits, never HTTP."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.applications import listing_repository as listing
from services.loan_intake.applications import repository as repo
from services.loan_intake.applications.exceptions import (
    ApplicationNotFound,
    TransitionNotAllowed,
)
from services.loan_intake.applications.rules import lapses, transition
from services.loan_intake.applications.schemas import (
    ApplicationPage,
    ApplicationPublic,
    ApplicationSummary,
    EnterprisePublic,
    HistoryEntry,
    LoanPublic,
    Message,
)
from services.loan_intake.applications.search import Search
from services.loan_intake.applications.words import (
    NEXT_STEPS_ZH,
    STATUS_TONES,
    application_number,
)
from services.loan_intake.models import (
    STATUS_LABELS_ZH,
    Application,
    ApplicationEvent,
    ApplicationStatus,
)
from shared.auth import VERIFIED_PERMISSION, Principal, Role, account_of
from shared.contracts.assessment import (
    Decision,
    EnterpriseSnapshot,
    ProposedTerms,
    Reason,
)
from shared.money import from_fen
from shared.sme import SECTORS

log = structlog.get_logger("loan_intake")


def _row(model: Application | ApplicationEvent) -> Mapping[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def to_public(
    *, application: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
) -> ApplicationPublic:
    snapshot = EnterpriseSnapshot.model_validate(application["enterprise_snapshot"])
    status = ApplicationStatus(application["status"])
    return ApplicationPublic(
        id=application["id"],
        number=application_number(application.get("number"), application["created_at"]),
        status=status,
        status_label=STATUS_LABELS_ZH[status],
        status_tone=STATUS_TONES[status],
        next_step_zh=NEXT_STEPS_ZH[status],
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


def _account_filter(principal: Principal) -> int | None:
    """An unverified portal account sees only what it submitted itself (whoever registers
    a firm's code first must not read the firm's applications)."""
    if principal.role is not Role.SME or VERIFIED_PERMISSION in principal.permissions:
        return None
    return account_of(principal)


async def get_application(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> ApplicationPublic:
    application = await repo.get_application(
        session=session,
        application_id=application_id,
        tenant=_tenant_filter(principal),
        account=_account_filter(principal),
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
    page: int,
    page_size: int,
    search: Search | None = None,
) -> ApplicationPage:
    """An SME's own applications, or for staff all that match ``search``."""
    rows, total = await listing.list_applications(
        session=session,
        tenant=_tenant_filter(principal),
        account=_account_filter(principal),
        search=search or Search(),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return ApplicationPage(
        items=[
            ApplicationSummary(
                id=a.id,
                number=application_number(a.number, a.created_at),
                enterprise_uscc=a.enterprise_uscc,
                enterprise_name=a.enterprise_snapshot["name"],
                amount=from_fen(a.amount_fen),
                term_months=a.term_months,
                preferred_bank=a.preferred_bank,
                status=ApplicationStatus(a.status),
                status_label=STATUS_LABELS_ZH[ApplicationStatus(a.status)],
                status_tone=STATUS_TONES[ApplicationStatus(a.status)],
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


async def _own_for_update(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> Application:
    """The application as the caller may change it (another firm's: not found), locked."""
    application = await repo.get_application(
        session=session,
        application_id=application_id,
        tenant=_tenant_filter(principal),
        account=_account_filter(principal),
        for_update=True,
    )
    if application is None:
        raise ApplicationNotFound(f"没有编号为 {application_id} 的申请")
    return application


async def withdraw_application(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID, reason: str
) -> ApplicationPublic:
    application = await _own_for_update(session, principal, application_id)
    event = transition(
        application, ApplicationStatus.WITHDRAWN, actor=principal.actor, reason=reason
    )
    repo.add_event(session, event)
    if lapses(event):
        repo.add_lapse(session, event.application_id)
    await session.flush()
    log.info("application.withdrawn", application_id=str(application_id))
    return await get_application(
        session=session, principal=principal, application_id=application_id
    )


_VERDICTS_ZH = {
    ApplicationStatus.ELIGIBLE: "符合条件",
    ApplicationStatus.INELIGIBLE: "不符合条件",
    ApplicationStatus.RETURNED: "退回补充材料",
}


async def supplement(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID, note: str
) -> ApplicationPublic:
    """The firm answers 退回补充材料: its note goes to the reviewer, who decides again."""
    application = await _own_for_update(session, principal, application_id)
    if application.status != ApplicationStatus.RETURNED.value:
        raise TransitionNotAllowed(
            f"申请当前为「{STATUS_LABELS_ZH[ApplicationStatus(application.status)]}」，"
            "只有被退回补充材料的申请可以补充"
        )
    event = transition(
        application,
        ApplicationStatus.REFERRED,
        actor=principal.actor,
        reason=f"企业已补充材料：{note}",
    )
    repo.add_event(session, event)
    await session.flush()
    log.info("application.supplemented", application_id=str(application_id))
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
    if application.status != ApplicationStatus.REFERRED.value:
        raise TransitionNotAllowed(
            f"申请当前为「{STATUS_LABELS_ZH[ApplicationStatus(application.status)]}」，"
            "只有转人工复核的申请由财政局决定"
        )
    verdict = _VERDICTS_ZH[decision]
    event = transition(
        application, decision, actor=principal.actor, reason=f"财政局复核：{verdict}。{note}"
    )
    repo.add_event(session, event)
    if lapses(event):
        repo.add_lapse(session, event.application_id)
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


async def messages(
    *, session: AsyncSession, principal: Principal, read_at: datetime | None, limit: int = 50
) -> list[Message]:
    """The firm's news, newest first, each marked unread if after ``read_at``."""
    assert principal.tenant is not None
    found = await listing.news_of(
        session=session,
        tenant=principal.tenant,
        account=_account_filter(principal),
        not_by=principal.actor,
        since=None,
        limit=limit,
    )
    return [
        Message(
            application_id=application.id,
            application_number=application_number(application.number, application.created_at),
            title="补贴到账"
            if event.details and event.details.get("voucher_number")
            else STATUS_LABELS_ZH[ApplicationStatus(event.to_status)],
            body=event.reason,
            at=event.at,
            unread=read_at is None or event.at > read_at,
        )
        for event, application in found
    ]


async def unread_count(
    *, session: AsyncSession, principal: Principal, read_at: datetime | None
) -> int:
    """How many messages came after ``read_at`` (at most 99: the badge says 99+)."""
    assert principal.tenant is not None
    found = await listing.news_of(
        session=session,
        tenant=principal.tenant,
        account=_account_filter(principal),
        not_by=principal.actor,
        since=read_at,
        limit=100,
    )
    return len(found)
