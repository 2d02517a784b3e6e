"""A submission: the application, its history and the outbox row that hands it to the
guarantee service, written in one transaction (one statement on PostgreSQL). Never
commits, never HTTP.

This is the platform's hot path: plain rows through prepared Core statements (no ORM unit
of work), no call to another service — the hand-off worker (worker.py) sends the outbox
row on. An Idempotency-Key makes a retried submission answer as the first did.
"""

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.applications import repository as repo
from services.loan_intake.applications import service
from services.loan_intake.applications.exceptions import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    NotYourEnterprise,
)
from services.loan_intake.applications.rules import check_transition, event_row
from services.loan_intake.applications.schemas import (
    ApplicationCreate,
)
from services.loan_intake.applications.words import application_number
from services.loan_intake.models import (
    ApplicationStatus,
    IdempotencyRecord,
)
from shared.auth import Principal, Role, account_of
from shared.clock import shanghai_date, utcnow
from shared.contracts.assessment import (
    AssessmentRequest,
    Attestation,
    EnterpriseSnapshot,
    LoanRequest,
)
from shared.money import to_fen
from shared.sme import classify, resolve_sector

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

log = structlog.get_logger("loan_intake")


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's Idempotency-Key, with the status its caller answers with: both are kept
    with the response, so the same key again replays the same answer."""

    key: str
    answer_status: int


@dataclass(frozen=True)
class Submission:
    body: dict[str, Any]
    application_id: uuid.UUID
    replayed: bool


def _fingerprint(payload: ApplicationCreate, attestations: Sequence[Attestation] = ()) -> str:
    text = payload.model_dump_json()
    if attestations:  # a bank's checks are part of what it filed
        text += "".join(a.model_dump_json() for a in attestations)
    return hashlib.sha256(text.encode()).hexdigest()


async def _replay(session: AsyncSession, record: IdempotencyRecord, fingerprint: str) -> Submission:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "同一幂等键已用于内容不同的申请；请换一个键重新提交 "
            "(this Idempotency-Key was used for a different request body)"
        )
    body = dict(record.response)
    application_id = uuid.UUID(body["id"])
    if body.get("number") is None:
        # The first answer was stored before the database numbered the application.
        number = await repo.number_of(session=session, application_id=application_id)
        body["number"] = application_number(number, datetime.fromisoformat(body["created_at"]))
    return Submission(body=body, application_id=application_id, replayed=True)


@dataclass(frozen=True)
class _Rows:
    """A submission's rows, as one statement writes them."""

    application: dict[str, Any]
    events: list[dict[str, Any]]
    outbox: dict[str, Any]


def _rows(
    payload: ApplicationCreate,
    snapshot: EnterpriseSnapshot,
    principal: Principal,
    request_id: str | None,
    now: datetime,
    attestations: Sequence[Attestation] = (),
) -> _Rows:
    """The application (``assessing``), its history (submitted → assessing) and the
    outbox row that hands it to the guarantee service."""
    application_id = uuid.uuid4()
    application = {
        "id": application_id,
        "enterprise_uscc": snapshot.uscc,
        "enterprise_snapshot": snapshot.model_dump(mode="json"),
        "amount_fen": to_fen(payload.loan.amount),
        "term_months": payload.loan.term_months,
        "purpose": payload.loan.purpose,
        "preferred_bank": payload.loan.preferred_bank,
        "status": ApplicationStatus.ASSESSING.value,
        "decision": None,
        "score": None,
        "reasons": None,
        "terms": None,
        "assessment_id": None,
        "policy_version_id": None,
        "policy_name": None,
        "submitted_by": principal.actor,
        "account_id": account_of(principal),
        "created_at": now,
        "updated_at": now,
        "assessed_at": None,
    }
    check_transition(ApplicationStatus.SUBMITTED, ApplicationStatus.ASSESSING)
    events = [
        event_row(
            application_id,
            None,
            ApplicationStatus.SUBMITTED,
            principal.actor,
            _submitted_by_text(principal, payload),
            now,
        ),
        event_row(
            application_id,
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.ASSESSING,
            "system:loan_intake",
            "已提交担保基金评估",
            now,
        ),
    ]
    outbox = _outbox_row(payload, snapshot, application_id, request_id, now, attestations)
    return _Rows(application, events, outbox)


def _submitted_by_text(principal: Principal, payload: ApplicationCreate) -> str:
    if principal.role is Role.SERVICE:  # the bank gateway, for a bank's own loan
        return f"合作银行（{payload.loan.preferred_bank or '—'}）已审批放款，见贷即保代为提交申请"
    return "企业在线提交申请"


def assessment_request(
    payload: ApplicationCreate,
    snapshot: EnterpriseSnapshot,
    application_id: uuid.UUID,
    now: datetime,
    attestations: Sequence[Attestation] = (),
) -> AssessmentRequest:
    return AssessmentRequest(
        attestations=list(attestations),
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


def preview_request(payload: ApplicationCreate) -> AssessmentRequest:
    """The assessment the application would ask for if submitted now (for the 预审)."""
    return assessment_request(payload, _snapshot(payload), uuid.uuid4(), utcnow())


def _outbox_row(
    payload: ApplicationCreate,
    snapshot: EnterpriseSnapshot,
    application_id: uuid.UUID,
    request_id: str | None,
    now: datetime,
    attestations: Sequence[Attestation] = (),
) -> dict[str, Any]:
    request = assessment_request(payload, snapshot, application_id, now, attestations)
    return {
        "topic": repo.ASSESSMENT_TOPIC,
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


def _key_row(
    principal: Principal,
    key: IdempotencyKey | None,
    fingerprint: str,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """The key with the request's fingerprint and the answer, to replay it."""
    if key is None:
        return None
    return {
        "client": principal.actor,
        "key": key.key,
        "fingerprint": fingerprint,
        "status_code": key.answer_status,
        "response": body,
        "created_at": now,
    }


async def _store(
    session: AsyncSession,
    principal: Principal,
    key: IdempotencyKey | None,
    fingerprint: str,
    **rows: Any,
) -> Submission | int:
    """Write the submission's rows and give the number the database gave it; with a key,
    the first answer instead if a concurrent request committed the same key first (it is
    found in a savepoint's aftermath)."""
    if key is None:
        # A fresh id and no key: nothing another request could have written first.
        return await repo.insert_submission(session=session, **rows)
    try:
        async with session.begin_nested():
            return await repo.insert_submission(session=session, **rows)
    except IntegrityError:
        record = await repo.get_idempotency_record(
            session=session, client=principal.actor, key=key.key
        )
        if record is None:
            raise
        return await _replay(session, record, fingerprint)
    return None


async def already_submitted(*, session: AsyncSession, principal: Principal, key: str) -> bool:
    """Whether this key filed an application already (a form sent twice is a replay)."""
    record = await repo.get_idempotency_record(session=session, client=principal.actor, key=key)
    return record is not None


async def submit_application(
    *,
    session: AsyncSession,
    principal: Principal,
    payload: ApplicationCreate,
    idempotency: IdempotencyKey | None,
    request_id: str | None,
    attestations: Sequence[Attestation] = (),
) -> Submission:
    """Store an application, record its history and queue its assessment — one transaction.
    ``attestations``: a lending bank's own checks (见贷即保), for the assessment to keep."""
    if principal.role is Role.SME and principal.tenant != payload.enterprise.uscc:
        raise NotYourEnterprise(
            f"您的账号属于 {principal.tenant}，不能为 {payload.enterprise.uscc} 提交申请"
        )
    fingerprint = _fingerprint(payload, attestations)
    if idempotency is not None:
        if not _IDEMPOTENCY_KEY.match(idempotency.key):
            raise InvalidIdempotencyKey("幂等键应为 1–200 个可见 ASCII 字符")
        record = await repo.get_idempotency_record(
            session=session, client=principal.actor, key=idempotency.key
        )
        if record is not None:
            return await _replay(session, record, fingerprint)
    now = utcnow()
    snapshot = _snapshot(payload)
    rows = _rows(payload, snapshot, principal, request_id, now, attestations)
    body = service.to_public(application=rows.application, events=rows.events).model_dump(
        mode="json"
    )
    stored = await _store(
        session,
        principal,
        idempotency,
        fingerprint,
        enterprise=_enterprise_row(snapshot),
        application=rows.application,
        events=rows.events,
        outbox=rows.outbox,
        idempotency=_key_row(principal, idempotency, fingerprint, body, now),
        now=now,
    )
    if isinstance(stored, Submission):
        return stored
    body["number"] = application_number(stored, now)
    log.info(
        "application.submitted",
        application_id=str(rows.application["id"]),
        uscc=snapshot.uscc,
        amount=str(payload.loan.amount),
        sme_size=snapshot.sme_size.value,
    )
    return Submission(body, rows.application["id"], replayed=False)


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
