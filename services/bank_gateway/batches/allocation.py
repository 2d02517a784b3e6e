"""Allocation: eligible applications into a batch, by hand or automatically. Never commits.

Each application is read from loan_intake (the source of the amount and of whether it is
eligible), then its amount is reserved against the quota with one conditional UPDATE and
the loan recorded under a unique application id, inside a savepoint: a refused allocation
leaves neither behind, and neither a quota overrun nor an application in two batches can
come out of concurrent allocations.
"""

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import service as banks
from services.bank_gateway.batches import repository as repo
from services.bank_gateway.batches.exceptions import (
    BatchStateConflict,
    IntakeUnavailableProblem,
)
from services.bank_gateway.batches.firm_caps import over_the_cap
from services.bank_gateway.batches.schemas import (
    AllocationOutcome,
    AllocationResult,
    AutoAllocationRequest,
    AutoAllocationResult,
)
from services.bank_gateway.batches.service import (
    allocated_updates,
    audit_change,
    load,
    loan_notice,
    present,
)
from services.bank_gateway.clients import GuaranteeClient, IntakeClient, IntakeUnavailable
from services.bank_gateway.models import (
    BATCH_STATUS_ZH,
    Batch,
    BatchLoan,
    BatchStatus,
    PartnerBank,
)
from services.bank_gateway.notifications import notices
from services.bank_gateway.notifications import service as outbox
from shared.auth import Principal
from shared.contracts.allocation import ApplicationForAllocation, ApplicationListed
from shared.money import to_fen, yuan

ALLOCATABLE = {BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.OPEN}
# How far auto-allocation reads down intake's eligible list (oldest first) in one call.
AUTO_SCAN_PAGES, AUTO_PAGE_SIZE = 50, 200


def _check_allocatable(batch: Batch) -> None:
    if batch.status not in ALLOCATABLE:
        raise BatchStateConflict(
            f"批次状态为“{BATCH_STATUS_ZH[BatchStatus(batch.status)]}”，不能分配申请"
        )


def _refused(application_id: uuid.UUID, code: str, message: str) -> AllocationOutcome:
    return AllocationOutcome(
        application_id=application_id, allocated=False, code=code, message=message
    )


async def allocate(
    *,
    session: AsyncSession,
    principal: Principal,
    intake: IntakeClient,
    guarantee: GuaranteeClient,
    batch_id: uuid.UUID,
    application_ids: list[uuid.UUID],
) -> AllocationResult:
    """Each application allocated or refused on its own; answers in the request's order."""
    batch = await load(session, principal, batch_id)
    _check_allocatable(batch)
    wanted = list(dict.fromkeys(application_ids))
    decided: dict[uuid.UUID, AllocationOutcome] = {}
    readable: list[ApplicationForAllocation] = []
    for application_id in wanted:
        found = await _check_one(session, intake, application_id)
        if isinstance(found, AllocationOutcome):
            decided[application_id] = found
        else:
            readable.append(found)
    over = await over_the_cap(session, guarantee, readable)
    decided |= {a.id: over[str(a.id)] for a in readable if str(a.id) in over}
    readable = [a for a in readable if str(a.id) not in over]
    decided |= await _within_quota(session, principal, batch, readable)
    outcomes = [decided[application_id] for application_id in wanted]
    allocated = [o.application_id for o in outcomes if o.allocated]
    if allocated and batch.status == BatchStatus.OPEN:
        await _tell_of_new_loans(session, batch, allocated)
    if allocated:
        audit_change(
            session, principal, "batch.allocated", batch, applications=[str(a) for a in allocated]
        )
    fresh = await repo.get_batch(session=session, batch_id=batch.id)
    assert fresh is not None
    return AllocationResult(batch=await present(session, fresh), outcomes=outcomes)


async def _within_quota(
    session: AsyncSession,
    principal: Principal,
    batch: Batch,
    readable: list[ApplicationForAllocation],
) -> dict[uuid.UUID, AllocationOutcome]:
    """Record the loans that fit the quota, in the order given; refuse the others."""
    # Allocations into one batch queue on its row lock; the quota goes to the applications
    # in the order the request lists them.
    locked = await repo.get_batch(session=session, batch_id=batch.id, for_update=True)
    assert locked is not None
    if locked.status not in ALLOCATABLE:  # changed while we read loan_intake
        raise BatchStateConflict("批次状态已变化，不能分配申请")
    room = locked.quota_fen - locked.allocated_fen
    decided: dict[uuid.UUID, AllocationOutcome] = {}
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
                f"批次剩余额度不足以容纳 {yuan(application.loan.amount)}",
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
    return decided


async def _tell_of_new_loans(
    session: AsyncSession, batch: Batch, application_ids: list[uuid.UUID]
) -> None:
    """Into a batch already open: the bank and loan_intake hear of it as at opening."""
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    loans = list(
        await repo.loans_of_batch(
            session=session, batch_id=batch.id, application_ids=application_ids
        )
    )
    added = notices.BatchLoansAdded(batch_id=batch.id, loans=[loan_notice(loan) for loan in loans])
    rows = [outbox.to_bank(bank.id, "batch.loans_added", added)]
    await outbox.send(session=session, rows=[*rows, *allocated_updates(batch, bank, loans)])


async def allocate_filed(
    session: AsyncSession,
    principal: Principal,
    batch: Batch,
    application: ApplicationForAllocation,
) -> BatchLoan | None:
    """A bank's own loan (见贷即保) into its open batch, against the quota like any
    allocation; loan_intake told. None when the quota has no room for it."""
    outcome = (await _within_quota(session, principal, batch, [application]))[application.id]
    if not outcome.allocated:
        return None
    [loan] = await repo.loans_of_batch(
        session=session, batch_id=batch.id, application_ids=[application.id]
    )
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    await outbox.send(session=session, rows=allocated_updates(batch, bank, [loan]))
    audit_change(session, principal, "batch.filed", batch, applications=[str(application.id)])
    return loan


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


async def _eligible_by_preference(
    session: AsyncSession,
    intake: IntakeClient,
    bank: PartnerBank,
    request: AutoAllocationRequest,
    wanted: list[str],
) -> tuple[dict[str, list[ApplicationListed]], int]:
    """loan_intake's eligible applications not in a batch, oldest first, by what the SME
    wrote of this bank; and how many were looked at."""
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
    return by_preference, scanned


async def auto_allocate(
    *,
    session: AsyncSession,
    principal: Principal,
    intake: IntakeClient,
    guarantee: GuaranteeClient,
    batch_id: uuid.UUID,
    request: AutoAllocationRequest,
) -> AutoAllocationResult:
    """Fill the batch from loan_intake's eligible applications, oldest first: those naming
    this bank first, then (if asked) those naming none, then those naming another bank;
    each only if it still fits the quota. The chosen ones go through :func:`allocate`."""
    batch = await load(session, principal, batch_id)
    _check_allocatable(batch)
    bank = await banks.by_id(session=session, bank_id=batch.bank_id)
    wanted = ["this_bank"]
    wanted += ["no_preference"] if request.include_no_preference else []
    wanted += ["other_bank"] if request.include_other_banks else []
    by_preference, scanned = await _eligible_by_preference(session, intake, bank, request, wanted)
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
            batch=await present(session, batch), outcomes=[], scanned=scanned, chosen=chosen_by
        )
    result = await allocate(
        session=session,
        principal=principal,
        intake=intake,
        guarantee=guarantee,
        batch_id=batch_id,
        application_ids=chosen,
    )
    return AutoAllocationResult(**dict(result), scanned=scanned, chosen=chosen_by)


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
