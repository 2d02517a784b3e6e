"""An application's life (DESIGN.md §4) as a state machine: which change may follow which.
Pure rules over the models; nothing not listed here is allowed."""

import uuid
from datetime import datetime
from typing import Any

from services.loan_intake.applications.exceptions import TransitionNotAllowed
from services.loan_intake.models import (
    STATUS_LABELS_ZH,
    Application,
    ApplicationEvent,
    ApplicationStatus,
)
from shared.clock import utcnow
from shared.contracts.assessment import Decision

TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.SUBMITTED: frozenset(
        {ApplicationStatus.ASSESSING, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.ASSESSING: frozenset(
        {
            ApplicationStatus.ELIGIBLE,
            ApplicationStatus.INELIGIBLE,
            ApplicationStatus.REFERRED,
            ApplicationStatus.WITHDRAWN,
        }
    ),
    ApplicationStatus.REFERRED: frozenset(
        {
            ApplicationStatus.ELIGIBLE,
            ApplicationStatus.INELIGIBLE,
            ApplicationStatus.RETURNED,
            ApplicationStatus.WITHDRAWN,
        }
    ),
    # The firm answers (补充材料) and the reviewer looks again; or it withdraws.
    ApplicationStatus.RETURNED: frozenset(
        {ApplicationStatus.REFERRED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.ELIGIBLE: frozenset(
        {ApplicationStatus.ALLOCATED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.INELIGIBLE: frozenset(),
    ApplicationStatus.ALLOCATED: frozenset(
        {ApplicationStatus.BANK_REVIEWING, ApplicationStatus.APPROVED, ApplicationStatus.DECLINED}
    ),
    ApplicationStatus.BANK_REVIEWING: frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.DECLINED}
    ),
    ApplicationStatus.APPROVED: frozenset(
        {ApplicationStatus.DISBURSED, ApplicationStatus.DECLINED}
    ),
    ApplicationStatus.DECLINED: frozenset(),
    # … or the fund refuses its 备案 (unguaranteed) while the bank's first events arrive.
    ApplicationStatus.DISBURSED: frozenset(
        {
            ApplicationStatus.REPAYING,
            ApplicationStatus.OVERDUE,
            ApplicationStatus.SETTLED,
            ApplicationStatus.UNGUARANTEED,
        }
    ),
    ApplicationStatus.REPAYING: frozenset(
        {
            ApplicationStatus.REPAYING,
            ApplicationStatus.OVERDUE,
            ApplicationStatus.SETTLED,
            ApplicationStatus.UNGUARANTEED,
        }
    ),
    ApplicationStatus.OVERDUE: frozenset(
        {
            ApplicationStatus.REPAYING,
            ApplicationStatus.DEFAULTED,
            ApplicationStatus.SETTLED,
            ApplicationStatus.UNGUARANTEED,
        }
    ),
    # To compensated when a claim the ceiling refused is topped up as the batch grows.
    ApplicationStatus.DEFAULTED: frozenset(
        {
            ApplicationStatus.CLAIMED,
            ApplicationStatus.COMPENSATED,
            ApplicationStatus.RECOVERING,
            ApplicationStatus.WRITTEN_OFF,
        }
    ),
    # Back to defaulted when the fund pays nothing (the batch's ceiling is used up).
    ApplicationStatus.CLAIMED: frozenset(
        {ApplicationStatus.COMPENSATED, ApplicationStatus.DEFAULTED}
    ),
    # Compensated again: a claim the ceiling cut, topped up.
    ApplicationStatus.COMPENSATED: frozenset(
        {
            ApplicationStatus.COMPENSATED,
            ApplicationStatus.RECOVERING,
            ApplicationStatus.CLOSED,
            ApplicationStatus.WRITTEN_OFF,
        }
    ),
    ApplicationStatus.RECOVERING: frozenset(
        {ApplicationStatus.RECOVERING, ApplicationStatus.CLOSED, ApplicationStatus.WRITTEN_OFF}
    ),
    ApplicationStatus.SETTLED: frozenset(),
    ApplicationStatus.CLOSED: frozenset(),
    ApplicationStatus.WRITTEN_OFF: frozenset(),
    ApplicationStatus.WITHDRAWN: frozenset(),
    ApplicationStatus.UNGUARANTEED: frozenset(),
}
DECISION_STATUS = {
    Decision.ELIGIBLE: ApplicationStatus.ELIGIBLE,
    Decision.INELIGIBLE: ApplicationStatus.INELIGIBLE,
    Decision.REFERRED: ApplicationStatus.REFERRED,
}


# An application that ends here will never be lent: its amount stops counting against the
# firm's 在保余额 cap at the guarantee service.
LAPSING = frozenset(
    {
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.DECLINED,
        ApplicationStatus.INELIGIBLE,
        ApplicationStatus.UNGUARANTEED,
    }
)


def lapses(event: ApplicationEvent) -> bool:
    return ApplicationStatus(event.to_status) in LAPSING


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


def news(application: Application, *, actor: str, reason: str) -> ApplicationEvent:
    """A history entry that leaves the status as it is (a subsidy paid out on the loan)."""
    return ApplicationEvent(
        application_id=application.id,
        from_status=application.status,
        to_status=application.status,
        actor=actor,
        reason=reason,
        at=utcnow(),
    )


def event_row(
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
