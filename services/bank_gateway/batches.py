"""Batches: draft → pending_approval → approved (→ open → suspended | closed, next).

Never commits. Allocation reads each application from loan_intake (it is the source of
the amount and of whether the application is eligible), then reserves the amount against
the quota with one conditional UPDATE and records the loan under a unique application id,
both inside a savepoint: a refused allocation leaves neither behind, and neither a quota
overrun nor an application in two batches can come out of concurrent allocations.
"""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway import notices
from services.bank_gateway import repository as repo
from services.bank_gateway.callbacks import decline_unapproved
from services.bank_gateway.clients import (
    GuaranteeClient,
    GuaranteeUnavailable,
    IntakeClient,
    IntakeUnavailable,
)
from services.bank_gateway.exceptions import (
    BankNotFound,
    BatchInvalid,
    BatchNotFound,
    BatchStateConflict,
    GuaranteeUnavailableProblem,
    IntakeUnavailableProblem,
)
from services.bank_gateway.models import (
    BATCH_STATUS_ZH,
    AllocationOutcome,
    AllocationResult,
    AutoAllocationRequest,
    AutoAllocationResult,
    Batch,
    BatchCreate,
    BatchLoan,
    BatchLoanPage,
    BatchLoanPublic,
    BatchPage,
    BatchPublic,
    BatchRisk,
    BatchStatus,
    Delivery,
    DeliveryKind,
    PartnerBank,
)
from services.bank_gateway.risk import figures as risk_figures
from shared.auth import Principal, Role, require_approve_permission
from shared.clock import shanghai_date, utcnow
from shared.contracts.allocation import ApplicationForAllocation, ApplicationListed
from shared.errors import FieldError, FourEyesRequired
from shared.money import from_fen, to_fen

ENTITY = "batch"
ALLOCATABLE = {BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.OPEN}


def _public(batch: Batch, bank: PartnerBank, loans: int) -> BatchPublic:
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


async def _present(session: AsyncSession, batch: Batch) -> BatchPublic:
    bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
    assert bank is not None
    counts = await repo.count_loans(session=session, batch_ids=[batch.id])
    return _public(batch, bank, counts.get(batch.id, 0))


async def _load(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID, *, lock: bool = False
) -> Batch:
    batch = await repo.get_batch(session=session, batch_id=batch_id, for_update=lock)
    if batch is not None and principal.role is Role.BANK:
        bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
        if bank is None or bank.code != principal.tenant:
            batch = None  # another bank's batch does not exist for this one
    if batch is None:
        raise BatchNotFound(f"没有编号为 {batch_id} 的批次")
    return batch


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    batch: Batch,
    *,
    created: bool = False,
    **detail: object,
) -> None:
    await repo.audit(
        session=session,
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


async def create_batch(
    *,
    session: AsyncSession,
    principal: Principal,
    guarantee: GuaranteeClient,
    payload: BatchCreate,
    today: date,
) -> BatchPublic:
    bank = await repo.get_bank_by_code(session=session, code=payload.bank_code)
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
    risk = policy.document.batch_risk
    batch = Batch(
        bank_id=bank.id,
        name=payload.name,
        policy_version=policy.version,
        warning_loss_rate=str(risk.warning_loss_rate),
        suspension_loss_rate=str(risk.suspension_loss_rate),
        compensation_ceiling=str(risk.compensation_ceiling),
        quota_fen=to_fen(payload.quota),
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        policy_version_id=payload.policy_version_id,
        status=BatchStatus.DRAFT,
        created_by=principal.actor,
    )
    repo.add(session, batch)
    await session.flush()
    await _audit(
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
    return _public(batch, bank, 0)


async def get_batch(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    return await _present(session, await _load(session, principal, batch_id))


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
        bank = await repo.get_bank_by_code(session=session, code=bank_code)
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
    banks = {b.id: b for b in await repo.list_banks(session=session)}
    return BatchPage(
        items=[_public(b, banks[b.bank_id], counts.get(b.id, 0)) for b in batches],
        total=total,
        offset=offset,
        limit=limit,
    )


async def allocate(
    *,
    session: AsyncSession,
    principal: Principal,
    intake: IntakeClient,
    batch_id: uuid.UUID,
    application_ids: list[uuid.UUID],
) -> AllocationResult:
    batch = await _load(session, principal, batch_id)
    if batch.status not in ALLOCATABLE:
        raise BatchStateConflict(
            f"批次状态为“{BATCH_STATUS_ZH[BatchStatus(batch.status)]}”，不能分配申请"
        )
    wanted = list(dict.fromkeys(application_ids))  # each once, answers in request order
    decided: dict[uuid.UUID, AllocationOutcome] = {}
    readable: list[ApplicationForAllocation] = []
    for application_id in wanted:
        found = await _check_one(session, intake, application_id)
        if isinstance(found, AllocationOutcome):
            decided[application_id] = found
        else:
            readable.append(found)
    # Allocations into one batch queue on its row lock; the quota goes to the applications
    # in the order the request lists them.
    locked = await repo.get_batch(session=session, batch_id=batch.id, for_update=True)
    assert locked is not None
    if locked.status not in ALLOCATABLE:  # changed while we read loan_intake
        raise BatchStateConflict("批次状态已变化，不能分配申请")
    room = locked.quota_fen - locked.allocated_fen
    chosen = []
    for application in readable:
        amount_fen = to_fen(application.loan.amount)
        if amount_fen <= room:
            chosen.append(application)
            room -= amount_fen
        else:
            decided[application.id] = _refused(
                application.id,
                "quota_exceeded",
                f"批次剩余额度不足以容纳 {application.loan.amount} 元",
            )
    # Loans are written in one global order (by application id): two requests allocating
    # the same applications into different batches then wait on each other in one
    # direction only, never in a cycle (PostgreSQL found a deadlock in the concurrency test
    # when each followed its own request order).
    taken = 0
    for application in sorted(chosen, key=lambda a: a.id):
        outcome = await _record_loan(session, principal, batch, application)
        decided[application.id] = outcome
        if outcome.allocated:
            taken += to_fen(application.loan.amount)
    # Under the row lock this cannot fail; the conditional update keeps the quota safe even
    # if the lock were ever lost (SQLite ignores FOR UPDATE; its single writer serialises).
    if taken and not await repo.reserve_quota(session=session, batch_id=batch.id, amount_fen=taken):
        raise BatchStateConflict("批次额度已被并发分配占用，请重试")
    outcomes = [decided[application_id] for application_id in wanted]
    allocated = [o for o in outcomes if o.allocated]
    if allocated and batch.status == BatchStatus.OPEN:
        # Into a batch already open: the bank and loan_intake hear of it as at opening.
        bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
        assert bank is not None
        new_loans = [
            loan
            for loan in await repo.loans_of_batch(session=session, batch_id=batch.id)
            if loan.application_id in {o.application_id for o in allocated}
        ]
        repo.add(
            session,
            Delivery(
                kind=DeliveryKind.WEBHOOK,
                event_type="batch.loans_added",
                bank_id=bank.id,
                payload=notices.payload(
                    "batch.loans_added",
                    notices.BatchLoansAdded(
                        batch_id=batch.id, loans=[_loan_notice(loan) for loan in new_loans]
                    ),
                ),
            ),
        )
        for loan in new_loans:
            repo.add(session, _allocated_update(batch, bank, loan))
    if allocated:
        await _audit(
            session,
            principal,
            "batch.allocated",
            batch,
            applications=[str(o.application_id) for o in allocated],
        )
    fresh = await repo.get_batch(session=session, batch_id=batch.id)
    assert fresh is not None
    return AllocationResult(batch=await _present(session, fresh), outcomes=outcomes)


# How far auto-allocation reads down intake's eligible list (oldest first) in one call.
AUTO_SCAN_PAGES, AUTO_PAGE_SIZE = 50, 200


def prefers(preferred_bank: str | None, bank: PartnerBank) -> str:
    """this_bank, no_preference or other_bank: what the SME wrote against this bank.

    The SME types a bank's name freely (上海农商银行, 上海农商银行青浦支行, srcb): it names this
    bank when it equals the code or the name, or one contains the other (4+ characters, so
    "银行" alone names nobody)."""
    text = (preferred_bank or "").strip()
    if not text:
        return "no_preference"
    if text.lower() == bank.code or text == bank.name:
        return "this_bank"
    shorter, longer = sorted((text, bank.name), key=len)
    return "this_bank" if len(shorter) >= 4 and shorter in longer else "other_bank"


async def auto_allocate(
    *,
    session: AsyncSession,
    principal: Principal,
    intake: IntakeClient,
    batch_id: uuid.UUID,
    request: AutoAllocationRequest,
) -> AutoAllocationResult:
    """Fill the batch from loan_intake's eligible applications, oldest first: those naming
    this bank first, then (if asked) those naming none, then those naming another bank;
    each only if it still fits the quota. The chosen ones go through :func:`allocate`."""
    batch = await _load(session, principal, batch_id)
    if batch.status not in ALLOCATABLE:
        raise BatchStateConflict(
            f"批次状态为“{BATCH_STATUS_ZH[BatchStatus(batch.status)]}”，不能分配申请"
        )
    bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
    assert bank is not None
    wanted = ["this_bank"]
    wanted += ["no_preference"] if request.include_no_preference else []
    wanted += ["other_bank"] if request.include_other_banks else []
    by_preference: dict[str, list[ApplicationListed]] = {kind: [] for kind in wanted}
    scanned = 0
    for page in range(1, AUTO_SCAN_PAGES + 1):
        try:
            listed = await intake.eligible_applications(page=page, page_size=AUTO_PAGE_SIZE)
        except IntakeUnavailable as error:
            raise IntakeUnavailableProblem(f"无法读取合格申请：{error}") from error
        taken = await repo.allocated_among(
            session=session, application_ids=[a.id for a in listed.items]
        )
        for application in listed.items:
            kind = prefers(application.preferred_bank, bank)
            if application.id not in taken and kind in by_preference:
                by_preference[kind].append(application)
        scanned += len(listed.items)
        if len(listed.items) < AUTO_PAGE_SIZE or len(by_preference["this_bank"]) >= (
            request.max_applications
        ):
            break
    room = batch.quota_fen - batch.allocated_fen
    chosen: list[uuid.UUID] = []
    chosen_by = dict.fromkeys(wanted, 0)
    for kind in wanted:
        for application in by_preference[kind]:
            amount = to_fen(application.amount)
            if len(chosen) < request.max_applications and amount <= room:
                chosen.append(application.id)
                chosen_by[kind] += 1
                room -= amount
    if not chosen:
        return AutoAllocationResult(
            batch=await _present(session, batch), outcomes=[], scanned=scanned, chosen=chosen_by
        )
    result = await allocate(
        session=session,
        principal=principal,
        intake=intake,
        batch_id=batch_id,
        application_ids=chosen,
    )
    return AutoAllocationResult(**dict(result), scanned=scanned, chosen=chosen_by)


def _refused(application_id: uuid.UUID, code: str, message: str) -> AllocationOutcome:
    return AllocationOutcome(
        application_id=application_id, allocated=False, code=code, message=message
    )


async def _check_one(
    session: AsyncSession, intake: IntakeClient, application_id: uuid.UUID
) -> AllocationOutcome | ApplicationForAllocation:
    """The application from loan_intake if it may be allocated; else why not."""
    existing = await repo.loan_for_application(session=session, application_id=application_id)
    if existing is not None:
        return _refused(application_id, "in_a_batch", "该申请已在某一批次中")
    try:
        application = await intake.application(application_id)
    except IntakeUnavailable as error:
        raise IntakeUnavailableProblem(f"无法读取申请 {application_id}：{error}") from error
    if application is None:
        return _refused(application_id, "not_found", "没有该申请")
    if application.status != "eligible":
        return _refused(
            application_id, "not_eligible", f"申请状态为 {application.status}，只有合格的申请可分配"
        )
    return application


async def _record_loan(
    session: AsyncSession,
    principal: Principal,
    batch: Batch,
    application: ApplicationForAllocation,
) -> AllocationOutcome:
    try:
        async with session.begin_nested():
            repo.add(
                session,
                BatchLoan(
                    batch_id=batch.id,
                    application_id=application.id,
                    enterprise_uscc=application.enterprise.uscc,
                    enterprise_name=application.enterprise.name,
                    amount_fen=to_fen(application.loan.amount),
                    term_months=application.loan.term_months,
                    terms=application.terms.model_dump(mode="json") if application.terms else None,
                    allocated_by=principal.actor,
                ),
            )
            await session.flush()
    except IntegrityError:
        # Allocated into another batch by a concurrent request meanwhile.
        return _refused(application.id, "in_a_batch", "该申请已在某一批次中")
    return AllocationOutcome(
        application_id=application.id, allocated=True, amount=application.loan.amount
    )


async def list_loans(
    *,
    session: AsyncSession,
    principal: Principal,
    batch_id: uuid.UUID,
    offset: int,
    limit: int,
    sort: str = "allocated",
) -> BatchLoanPage:
    """``sort``: allocated, amount, outstanding, state or enterprise; ``-`` first: descending."""
    await _load(session, principal, batch_id)
    loans, total = await repo.list_loans(
        session=session,
        batch_id=batch_id,
        offset=offset,
        limit=limit,
        sort=sort.removeprefix("-"),
        descending=sort.startswith("-"),
    )
    return BatchLoanPage(
        items=[loan_public(loan) for loan in loans], total=total, offset=offset, limit=limit
    )


async def utilisation(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> dict[str, list[tuple[date, Decimal]]]:
    """Allocated and disbursed, cumulative by day (yuan): the batch's use over time."""
    await _load(session, principal, batch_id)
    allocated: dict[date, int] = {}
    disbursed: dict[date, int] = {}
    for loan in await repo.loans_of_batch(session=session, batch_id=batch_id):
        day = shanghai_date(loan.created_at)
        allocated[day] = allocated.get(day, 0) + loan.amount_fen
        if loan.disbursed_on is not None:
            disbursed[loan.disbursed_on] = disbursed.get(loan.disbursed_on, 0) + loan.disbursed_fen

    def cumulative(per_day: dict[date, int]) -> list[tuple[date, Decimal]]:
        total, points = 0, []
        for day in sorted(per_day):
            total += per_day[day]
            points.append((day, from_fen(total)))
        return points

    return {"已分配": cumulative(allocated), "已放款": cumulative(disbursed)}


def loan_public(loan: BatchLoan) -> BatchLoanPublic:
    return BatchLoanPublic(
        id=loan.id,
        application_id=loan.application_id,
        enterprise_uscc=loan.enterprise_uscc,
        enterprise_name=loan.enterprise_name,
        amount=from_fen(loan.amount_fen),
        term_months=loan.term_months,
        state=loan.state,
        terms=loan.terms,
        created_at=loan.created_at,
        approved=from_fen(loan.approved_fen),
        disbursed=from_fen(loan.disbursed_fen),
        outstanding=from_fen(loan.outstanding_fen),
        repaid=from_fen(loan.repaid_fen),
        interest_paid=from_fen(loan.interest_paid_fen),
        annual_interest_rate=loan.annual_interest_rate,
        disbursed_on=loan.disbursed_on,
        maturity_on=loan.maturity_on,
        claim_status=loan.claim_status,
        compensation=from_fen(loan.compensation_fen),
        recovered=from_fen(loan.recovered_fen),
        recovered_to_fund=from_fen(loan.fund_recovered_fen),
        last_event_at=loan.last_event_at,
    )


async def submit(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.DRAFT:
        raise BatchStateConflict("只有草稿批次可以提交审批")
    now = utcnow()
    batch.status = BatchStatus.PENDING_APPROVAL
    batch.submitted_by, batch.submitted_at, batch.updated_at = principal.actor, now, now
    await _audit(session, principal, "batch.submitted", batch)
    return await _present(session, batch)


async def approve(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    require_approve_permission(principal, "审批批次")
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.PENDING_APPROVAL:
        raise BatchStateConflict("只有待审批的批次可以批准")
    if principal.actor in {batch.created_by, batch.submitted_by}:
        raise FourEyesRequired(
            f"批次由 {batch.created_by} 起草、{batch.submitted_by} 提交，须由另一位审批人批准"
        )
    now = utcnow()
    batch.status = BatchStatus.APPROVED
    batch.approved_by, batch.approved_at, batch.updated_at = principal.actor, now, now
    await _audit(session, principal, "batch.approved", batch)
    return await _present(session, batch)


def _loan_notice(loan: BatchLoan) -> notices.LoanNotice:
    return notices.LoanNotice(
        loan_id=loan.id,
        application_id=loan.application_id,
        enterprise_uscc=loan.enterprise_uscc,
        enterprise_name=loan.enterprise_name,
        amount=from_fen(loan.amount_fen),
        term_months=loan.term_months,
        terms=loan.terms,
    )


def _allocated_update(batch: Batch, bank: PartnerBank, loan: BatchLoan) -> Delivery:
    return Delivery(
        kind=DeliveryKind.INTAKE,
        event_type="application.allocated",
        application_id=loan.application_id,
        payload={
            "status": "allocated",
            "occurred_at": utcnow().isoformat(),
            "reason_zh": f"已分配至{bank.name}批次“{batch.name}”",
            "batch_id": str(batch.id),
            "bank_code": bank.code,
            "details": {"bank_name": bank.name, "amount": str(from_fen(loan.amount_fen))},
        },
    )


async def open_batch(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID, today: date
) -> BatchPublic:
    """Open an approved batch: the bank is told (``batch.opened``, with its loans) and each
    application becomes ``allocated`` in loan_intake — both through the outbox, in this
    transaction."""
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.APPROVED:
        raise BatchStateConflict("只有已批准的批次可以开放")
    if batch.valid_to < today:
        raise BatchStateConflict(f"批次有效期已于 {batch.valid_to} 结束")
    bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
    assert bank is not None
    loans = await repo.loans_of_batch(session=session, batch_id=batch.id)
    now = utcnow()
    batch.status = BatchStatus.OPEN
    batch.updated_at = now
    repo.add(
        session,
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event_type="batch.opened",
            bank_id=bank.id,
            payload=notices.payload(
                "batch.opened",
                notices.BatchOpened(
                    batch_id=batch.id,
                    name=batch.name,
                    quota=from_fen(batch.quota_fen),
                    allocated=from_fen(batch.allocated_fen),
                    valid_from=batch.valid_from,
                    valid_to=batch.valid_to,
                    policy_version_id=batch.policy_version_id,
                    loans=[_loan_notice(loan) for loan in loans],
                ),
            ),
        ),
    )
    for loan in loans:
        repo.add(session, _allocated_update(batch, bank, loan))
    await session.flush()
    await _audit(session, principal, "batch.opened", batch, loans=len(loans))
    return await _present(session, batch)


async def send_back(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    """A submitted batch goes back to draft (approver's rejection, or the drafter's recall)."""
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.PENDING_APPROVAL:
        raise BatchStateConflict("只有待审批的批次可以退回")
    batch.status = BatchStatus.DRAFT
    batch.submitted_by = batch.submitted_at = None
    batch.updated_at = utcnow()
    await _audit(session, principal, "batch.sent_back", batch)
    return await _present(session, batch)


async def risk(*, session: AsyncSession, principal: Principal, batch_id: uuid.UUID) -> BatchRisk:
    return await risk_figures(session, await _load(session, principal, batch_id))


async def close(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID, reason: str
) -> BatchPublic:
    """Close an open or suspended batch for good (a bureau approver): no allocations or
    approvals any more; loans the bank has not approved are declined and their quota given
    back; approved loans live on (repayments, claims, recoveries)."""
    require_approve_permission(principal, "关闭批次")
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status not in (BatchStatus.OPEN, BatchStatus.SUSPENDED):
        raise BatchStateConflict("只有已开放或已暂停的批次可以关闭")
    bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
    assert bank is not None
    declined = await decline_unapproved(session=session, bank=bank, batch=batch, reason=reason)
    batch.allocated_fen -= sum(loan.amount_fen for loan in declined)
    batch.status = BatchStatus.CLOSED
    batch.updated_at = utcnow()
    repo.add(
        session,
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event_type="batch.closed",
            bank_id=batch.bank_id,
            payload=notices.payload(
                "batch.closed",
                notices.BatchClosed(
                    batch_id=batch.id,
                    reason=reason,
                    declined_loans=[loan.id for loan in declined],
                ),
            ),
        ),
    )
    await _audit(session, principal, "batch.closed", batch, reason=reason, declined=len(declined))
    return await _present(session, batch)


async def reopen(
    *, session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> BatchPublic:
    """A suspended batch takes approvals again: a bureau approver's decision, audited."""
    require_approve_permission(principal, "重新开放批次")
    batch = await _load(session, principal, batch_id, lock=True)
    if batch.status != BatchStatus.SUSPENDED:
        raise BatchStateConflict("只有已暂停的批次可以重新开放")
    figures = await risk_figures(session, batch)
    batch.status = BatchStatus.OPEN
    batch.updated_at = utcnow()
    repo.add(
        session,
        Delivery(
            kind=DeliveryKind.WEBHOOK,
            event_type="batch.reopened",
            bank_id=batch.bank_id,
            payload=notices.payload(
                "batch.reopened",
                notices.BatchReopened(batch_id=batch.id, loss_rate=figures.loss_rate),
            ),
        ),
    )
    await _audit(session, principal, "batch.reopened", batch, loss_rate=str(figures.loss_rate))
    return await _present(session, batch)
