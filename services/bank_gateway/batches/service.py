"""Batches: draft → pending_approval → approved → open → suspended | closed. Never commits.

Four eyes: the approver holds the approve permission and neither drafted nor submitted
the batch. Opening tells the bank (``batch.opened``, with its loans) and loan_intake (each
application ``allocated``) through the outbox, in the same transaction. Suspension comes
from the ledger's risk figures (ledger/risk.py); reopening and closing are an approver's.
"""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.banks.exceptions import BankNotFound
from services.bank_gateway.batches import repository as repo
from services.bank_gateway.batches.exceptions import (
    BatchInvalid,
    BatchNotFound,
    BatchStateConflict,
    GuaranteeUnavailableProblem,
)
from services.bank_gateway.batches.schemas import BatchCreate, BatchPage, BatchPublic
from services.bank_gateway.clients import GuaranteeClient, GuaranteeUnavailable
from services.bank_gateway.ledger import decisions, risk
from services.bank_gateway.ledger.schemas import BatchRisk
from services.bank_gateway.models import (
    BATCH_STATUS_ZH,
    AuditEntry,
    Batch,
    BatchLoan,
    BatchStatus,
    PartnerBank,
)
from services.bank_gateway.notifications import notices
from services.bank_gateway.notifications import service as outbox
from shared import audit
from shared.auth import Principal, Role, require_approve_permission, same_person
from shared.clock import utcnow
from shared.errors import FieldError, FourEyesRequired
from shared.money import from_fen, to_fen

ENTITY = "batch"


def public(batch: Batch, bank: PartnerBank, loans: int) -> BatchPublic:
    return BatchPublic(
        id=batch.id,
        bank_code=bank.code,
        bank_name=bank.name,
        name=batch.name,
        quota=from_fen(batch.quota_fen),
        allocated=from_fen(batch.allocated_fen),
        available=from_fen(batch.quota_fen - batch.allocated_fen),
        loans=loans,
        valid_from=batch.valid_from,
        valid_to=batch.valid_to,
        policy_version_id=batch.policy_version_id,
        status=BatchStatus(batch.status),
        status_zh=BATCH_STATUS_ZH[BatchStatus(batch.status)],
        created_by=batch.created_by,
        created_at=batch.created_at,
        submitted_by=batch.submitted_by,
        submitted_at=batch.submitted_at,
        approved_by=batch.approved_by,
        approved_at=batch.approved_at,
    )


async def present(session: AsyncSession, batch: Batch) -> BatchPublic:
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    counts = await repo.count_loans(session=session, batch_ids=[batch.id])
    return public(batch, bank, counts.get(batch.id, 0))


async def load(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID, *, lock: bool = False
) -> Batch:
    """The batch, if the principal may see it: a bank sees its own batches only."""
    batch = await repo.get_batch(session=session, batch_id=batch_id, for_update=lock)
    if batch is not None and principal.role is Role.BANK:
        bank = await banks.by_id(session=session, bank_id=batch.bank_id)
        if bank.code != principal.tenant:
            batch = None  # another bank's batch does not exist for this one
    if batch is None:
        raise BatchNotFound(f"没有编号为 {batch_id} 的批次")
    return batch


def audit_change(
    session: AsyncSession,
    principal: Principal,
    action: str,
    batch: Batch,
    *,
    created: bool = False,
    **detail: object,
) -> None:
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action=action,
        entity_type=ENTITY,
        entity_id=str(batch.id),
        detail={"status": batch.status, **detail},
        entity=batch,
        created=created,
    )


def _invalid(field: str, zh: str, en: str, code: str) -> BatchInvalid:
    return BatchInvalid(zh, errors=[FieldError(field=field, message=zh, message_en=en, code=code)])


async def _drafting_bank(session: AsyncSession, payload: BatchCreate, today: date) -> PartnerBank:
    bank = await banks.by_code(session=session, code=payload.bank_code)
    if bank is None:
        raise _invalid(
            "bank_code",
            f"没有代码为 {payload.bank_code} 的合作银行",
            f"no partner bank {payload.bank_code}",
            "unknown_bank",
        )
    if not bank.active:
        raise _invalid("bank_code", "该银行已停用", "this bank is deactivated", "bank_inactive")
    if payload.valid_to < payload.valid_from:
        raise _invalid(
            "valid_to",
            "有效期结束日不能早于开始日",
            "valid_to must not precede valid_from",
            "window_reversed",
        )
    if payload.valid_to < today:
        raise _invalid(
            "valid_to", "有效期已过", "the validity window has already ended", "window_past"
        )
    return bank


async def create_batch(
    *,
    session: AsyncSession,
    principal: Principal,
    guarantee: GuaranteeClient,
    payload: BatchCreate,
    today: date,
) -> BatchPublic:
    bank = await _drafting_bank(session, payload, today)
    try:
        policy = await guarantee.policy_version(payload.policy_version_id)
    except GuaranteeUnavailable as error:
        raise GuaranteeUnavailableProblem(f"无法读取政策版本：{error}") from error
    if policy is None or policy.status != "approved":
        raise _invalid(
            "policy_version_id",
            "政策版本不存在或尚未批准",
            "no such policy version, or it is not approved",
            "policy_not_approved",
        )
    limits = policy.document.batch_risk
    batch = Batch(
        bank_id=bank.id,
        name=payload.name,
        policy_version=policy.version,
        warning_loss_rate=str(limits.warning_loss_rate),
        suspension_loss_rate=str(limits.suspension_loss_rate),
        compensation_ceiling=str(limits.compensation_ceiling),
        ceiling_base=limits.ceiling_base,
        auto_resume=limits.auto_resume,
        penalty_interest_markup=str(policy.document.bank_figures.penalty_interest_markup),
        maturity_grace_days=policy.document.bank_figures.maturity_grace_days,
        quota_fen=to_fen(payload.quota),
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        policy_version_id=payload.policy_version_id,
        status=BatchStatus.DRAFT,
        created_by=principal.actor,
    )
    repo.add(session, batch)
    await session.flush()
    audit_change(
        session,
        principal,
        "batch.drafted",
        batch,
        created=True,
        bank=bank.code,
        quota=str(payload.quota),
        valid_from=payload.valid_from.isoformat(),
        valid_to=payload.valid_to.isoformat(),
    )
    return public(batch, bank, 0)


async def batch_by_id(*, session: AsyncSession, batch_id: uuid.UUID) -> Batch | None:
    """The batch, whoever asks (the caller checks it is theirs)."""
    return await repo.get_batch(session=session, batch_id=batch_id)


async def loan_of_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> BatchLoan | None:
    """The loan an application became in some batch, if any."""
    return await repo.loan_for_application(session=session, application_id=application_id)


async def get_batch(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    return await present(session, await load(session, principal, batch_id))


async def list_batches(
    *,
    session: AsyncSession,
    principal: Principal,
    bank_code: str | None,
    status: BatchStatus | None,
    offset: int,
    limit: int,
) -> BatchPage:
    if principal.role is Role.BANK:
        bank_code = principal.tenant  # a bank lists its own batches, whatever it asks
    bank_id = None
    if bank_code is not None:
        bank = await banks.by_code(session=session, code=bank_code)
        if bank is None:
            raise BankNotFound(f"没有代码为 {bank_code} 的合作银行")
        bank_id = bank.id
    batches, total = await repo.list_batches(
        session=session,
        bank_id=bank_id,
        status=status.value if status else None,
        offset=offset,
        limit=limit,
    )
    counts = await repo.count_loans(session=session, batch_ids=[b.id for b in batches])
    by_id = {b.id: b for b in await banks.all_banks(session=session)}
    return BatchPage(
        items=[public(b, by_id[b.bank_id], counts.get(b.id, 0)) for b in batches],
        total=total,
        offset=offset,
        limit=limit,
    )


async def risk_of(*, session: AsyncSession, principal: Principal, batch_id: uuid.UUID) -> BatchRisk:
    return await risk.figures(session, await load(session, principal, batch_id))


async def submit(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.DRAFT:
        raise BatchStateConflict("只有草稿批次可以提交审批")
    now = utcnow()
    batch.status = BatchStatus.PENDING_APPROVAL
    batch.submitted_by, batch.submitted_at, batch.updated_at = principal.actor, now, now
    audit_change(session, principal, "batch.submitted", batch)
    return await present(session, batch)


async def approve(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    require_approve_permission(principal, "审批批次")
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.PENDING_APPROVAL:
        raise BatchStateConflict("只有待审批的批次可以批准")
    if same_person(principal, batch.created_by, batch.submitted_by):
        raise FourEyesRequired(
            f"批次由 {batch.created_by} 起草、{batch.submitted_by} 提交，须由另一位审批人批准"
        )
    now = utcnow()
    batch.status = BatchStatus.APPROVED
    batch.approved_by, batch.approved_at, batch.updated_at = principal.actor, now, now
    audit_change(session, principal, "batch.approved", batch)
    return await present(session, batch)


async def send_back(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    """A submitted batch goes back to draft (approver's rejection, or the drafter's recall)."""
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.PENDING_APPROVAL:
        raise BatchStateConflict("只有待审批的批次可以退回")
    batch.status = BatchStatus.DRAFT
    batch.submitted_by = batch.submitted_at = None
    batch.updated_at = utcnow()
    audit_change(session, principal, "batch.sent_back", batch)
    return await present(session, batch)


def loan_notice(loan: BatchLoan) -> notices.LoanNotice:
    return notices.LoanNotice(
        loan_id=loan.id,
        application_id=loan.application_id,
        enterprise_uscc=loan.enterprise_uscc,
        enterprise_name=loan.enterprise_name,
        amount=from_fen(loan.amount_fen),
        term_months=loan.term_months,
        terms=loan.terms,
    )


def allocated_updates(batch: Batch, bank: PartnerBank, loans: list[BatchLoan]) -> list[outbox.Row]:
    """Each application, now ``allocated`` in loan_intake (the SME's status page)."""
    return [
        outbox.to_intake(
            application_id=loan.application_id,
            event_type="application.allocated",
            status="allocated",
            reason_zh=f"已分配至{bank.name}批次“{batch.name}”",
            batch_id=batch.id,
            bank_code=bank.code,
            details={"bank_name": bank.name, "amount": str(from_fen(loan.amount_fen))},
        )
        for loan in loans
    ]


async def open_batch(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID, today: date
) -> BatchPublic:
    """Open an approved batch: the bank is told (``batch.opened``, with its loans) and each
    application becomes ``allocated`` in loan_intake — both through the outbox, in this
    transaction."""
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.APPROVED:
        raise BatchStateConflict("只有已批准的批次可以开放")
    if batch.valid_to < today:
        raise BatchStateConflict(f"批次有效期已于 {batch.valid_to} 结束")
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    loans = list(await repo.loans_of_batch(session=session, batch_id=batch.id))
    batch.status = BatchStatus.OPEN
    batch.updated_at = utcnow()
    opened = notices.BatchOpened(
        batch_id=batch.id,
        name=batch.name,
        quota=from_fen(batch.quota_fen),
        allocated=from_fen(batch.allocated_fen),
        valid_from=batch.valid_from,
        valid_to=batch.valid_to,
        policy_version_id=batch.policy_version_id,
        loans=[loan_notice(loan) for loan in loans],
    )
    rows = [outbox.to_bank(bank.id, "batch.opened", opened), *allocated_updates(batch, bank, loans)]
    await outbox.send(session=session, rows=rows)
    await session.flush()
    audit_change(session, principal, "batch.opened", batch, loans=len(loans))
    return await present(session, batch)


async def close(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID, reason: str
) -> BatchPublic:
    """Close an open or suspended batch for good (a bureau approver): no allocations or
    approvals any more; loans the bank has not approved are declined and their quota given
    back; approved loans live on (repayments, claims, recoveries)."""
    require_approve_permission(principal, "关闭批次")
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status not in (BatchStatus.OPEN, BatchStatus.SUSPENDED):
        raise BatchStateConflict("只有已开放或已暂停的批次可以关闭")
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    declined = await decisions.decline_unapproved(
        session=session, bank_code=bank.code, batch=batch, reason=reason
    )
    batch.allocated_fen -= sum(loan.amount_fen for loan in declined)
    batch.status = BatchStatus.CLOSED
    batch.updated_at = utcnow()
    closed = notices.BatchClosed(
        batch_id=batch.id, reason=reason, declined_loans=[loan.id for loan in declined]
    )
    await outbox.send(session=session, rows=[outbox.to_bank(batch.bank_id, "batch.closed", closed)])
    audit_change(session, principal, "batch.closed", batch, reason=reason, declined=len(declined))
    return await present(session, batch)


async def reopen(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    """A suspended batch takes approvals again: a bureau approver's decision, audited."""
    require_approve_permission(principal, "重新开放批次")
    batch = await load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.SUSPENDED:
        raise BatchStateConflict("只有已暂停的批次可以重新开放")
    figures = await risk.figures(session, batch)
    batch.status = BatchStatus.OPEN
    batch.updated_at = utcnow()
    reopened = notices.BatchReopened(batch_id=batch.id, loss_rate=figures.loss_rate)
    await outbox.send(
        session=session, rows=[outbox.to_bank(batch.bank_id, "batch.reopened", reopened)]
    )
    audit_change(session, principal, "batch.reopened", batch, loss_rate=str(figures.loss_rate))
    return await present(session, batch)
