"""Every query the bank gateway makes."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.bank_gateway.models import (
    AuditEntry,
    Batch,
    BatchLoan,
    Delivery,
    DeliveryStatus,
    PartnerBank,
    ReceivedEvent,
    SigningSecret,
)
from shared.audit import AUDIT_LOG_CONTENT, AuditChain, audit_row
from shared.clock import utcnow


async def list_banks(*, session: AsyncSession) -> Sequence[PartnerBank]:
    result = await session.execute(select(PartnerBank).order_by(col(PartnerBank.code)))
    return result.scalars().all()


async def get_bank_by_code(
    *, session: AsyncSession, code: str, for_update: bool = False
) -> PartnerBank | None:
    query = select(PartnerBank).where(PartnerBank.code == code)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def get_bank_by_client_id(*, session: AsyncSession, client_id: str) -> PartnerBank | None:
    result = await session.execute(select(PartnerBank).where(PartnerBank.client_id == client_id))
    return result.scalar_one_or_none()


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


async def valid_signing_secrets(
    *, session: AsyncSession, bank_ids: Sequence[uuid.UUID], now: datetime
) -> list[SigningSecret]:
    """Secrets still valid, newest first."""
    if not bank_ids:
        return []
    result = await session.execute(
        select(SigningSecret)
        .where(
            col(SigningSecret.bank_id).in_(bank_ids),
            sa.or_(col(SigningSecret.retires_at).is_(None), col(SigningSecret.retires_at) > now),
        )
        .order_by(col(SigningSecret.created_at).desc())
    )
    return list(result.scalars().all())


async def audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: dict[str, Any],
    entity: Any = None,
    created: bool = False,
) -> None:
    """Append to the audit log (shared/audit.py: ``audit_row``)."""
    session.add(
        audit_row(
            AuditEntry,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail,
            entity=entity,
            created=created,
        )
    )


# --- batches ----------------------------------------------------------------------------------

_batches: sa.Table = Batch.__table__  # type: ignore[attr-defined]
_loans: sa.Table = BatchLoan.__table__  # type: ignore[attr-defined]


async def get_bank(*, session: AsyncSession, bank_id: uuid.UUID) -> PartnerBank | None:
    return await session.get(PartnerBank, bank_id)


async def get_batch(
    *, session: AsyncSession, batch_id: uuid.UUID, for_update: bool = False
) -> Batch | None:
    return await session.get(
        Batch, batch_id, with_for_update=for_update or None, populate_existing=True
    )


async def list_batches(
    *,
    session: AsyncSession,
    bank_id: uuid.UUID | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Batch], int]:
    where = []
    if bank_id is not None:
        where.append(Batch.bank_id == bank_id)
    if status is not None:
        where.append(Batch.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Batch).where(*where))
    result = await session.execute(
        select(Batch)
        .where(*where)
        .order_by(col(Batch.created_at).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def count_loans(*, session: AsyncSession, batch_ids: Sequence[uuid.UUID]) -> dict:
    if not batch_ids:
        return {}
    result = await session.execute(
        sa.select(_loans.c.batch_id, sa.func.count())
        .where(_loans.c.batch_id.in_(batch_ids))
        .group_by(_loans.c.batch_id)
    )
    return dict(result.all())


async def reserve_quota(*, session: AsyncSession, batch_id: uuid.UUID, amount_fen: int) -> bool:
    """Add ``amount_fen`` to the batch's allocation if it still fits; one statement, so two
    concurrent allocations can never both take the last of the quota."""
    result = await session.execute(
        sa.update(_batches)
        .where(
            _batches.c.id == batch_id,
            _batches.c.allocated_fen + amount_fen <= _batches.c.quota_fen,
        )
        .values(allocated_fen=_batches.c.allocated_fen + amount_fen)
        .returning(_batches.c.id)
    )
    return result.scalar_one_or_none() is not None


async def loan_for_application(
    *, session: AsyncSession, application_id: uuid.UUID
) -> BatchLoan | None:
    result = await session.execute(
        select(BatchLoan).where(BatchLoan.application_id == application_id)
    )
    return result.scalar_one_or_none()


async def allocated_among(
    *, session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these applications are in a batch already."""
    if not application_ids:
        return set()
    result = await session.execute(
        sa.select(_loans.c.application_id).where(_loans.c.application_id.in_(application_ids))
    )
    return set(result.scalars().all())


LOAN_ORDER = {
    "allocated": _loans.c.created_at,
    "amount": _loans.c.amount_fen,
    "outstanding": _loans.c.outstanding_fen,
    "state": _loans.c.state,
    "enterprise": _loans.c.enterprise_name,
}


async def list_loans(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID,
    offset: int,
    limit: int,
    sort: str = "allocated",
    descending: bool = False,
) -> tuple[Sequence[BatchLoan], int]:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(_loans).where(_loans.c.batch_id == batch_id)
    )
    column = LOAN_ORDER[sort]
    result = await session.execute(
        select(BatchLoan)
        .where(BatchLoan.batch_id == batch_id)
        .order_by(column.desc() if descending else column, col(BatchLoan.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def sum_loans(*, session: AsyncSession, batch_id: uuid.UUID) -> int:
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(_loans.c.amount_fen), 0)).where(
            _loans.c.batch_id == batch_id
        )
    )
    return int(total or 0)


# --- deliveries (the outbox) ------------------------------------------------------------------

_deliveries: sa.Table = Delivery.__table__  # type: ignore[attr-defined]


async def loans_of_batch(*, session: AsyncSession, batch_id: uuid.UUID) -> Sequence[BatchLoan]:
    result = await session.execute(
        select(BatchLoan)
        .where(BatchLoan.batch_id == batch_id)
        .order_by(col(BatchLoan.created_at), col(BatchLoan.id))
    )
    return result.scalars().all()


async def claim_deliveries(
    *,
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    limit: int,
    kinds: Sequence[str],
) -> list[Delivery]:
    """Lease due deliveries; SKIP LOCKED so several workers never take the same one."""
    earlier = _deliveries.alias("earlier")
    # A loan's changes reach loan_intake (and its filing, claim and recoveries the guarantee
    # service) in the order they happened: a row waits while an older one of the same kind
    # for the same application is still pending.
    ahead = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.application_id == _deliveries.c.application_id,
            earlier.c.kind == _deliveries.c.kind,
            earlier.c.status == DeliveryStatus.PENDING,
            sa.or_(
                earlier.c.created_at < _deliveries.c.created_at,
                sa.and_(
                    earlier.c.created_at == _deliveries.c.created_at,
                    earlier.c.id < _deliveries.c.id,
                ),
            ),
        )
        .exists()
    )
    due = (
        sa.select(_deliveries.c.id)
        .where(
            _deliveries.c.status == DeliveryStatus.PENDING,
            _deliveries.c.kind.in_(kinds),
            _deliveries.c.next_attempt_at <= now,
            sa.or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < now),
            sa.or_(_deliveries.c.application_id.is_(None), ~ahead),
        )
        .order_by(_deliveries.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars().all())
    if not ids:
        return []
    await session.execute(
        sa.update(_deliveries)
        .where(_deliveries.c.id.in_(ids))
        .values(lease_until=lease_until, attempts=_deliveries.c.attempts + 1)
    )
    result = await session.execute(
        select(Delivery)
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.created_at), col(Delivery.id))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def finish_delivery(*, session: AsyncSession, delivery_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        sa.update(_deliveries).where(_deliveries.c.id == delivery_id).values(**values)
    )


_last_created = datetime.min.replace(tzinfo=UTC)


def strictly_later() -> datetime:
    """Now, but after every time this process handed out before. Outbox rows are delivered,
    and held events released, in time order: two stamped in the same microsecond would fall
    back to their (random) ids and could swap."""
    global _last_created
    _last_created = max(utcnow(), _last_created + timedelta(microseconds=1))
    return _last_created


def delivery_row(
    *,
    kind: str,
    event_type: str,
    payload: dict[str, Any],
    bank_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A new outbox row with every column given, for :func:`insert_deliveries`."""
    now = strictly_later()
    return {
        "id": uuid.uuid4(),
        "kind": kind,
        "event_type": event_type,
        "bank_id": bank_id,
        "application_id": application_id,
        "payload": payload,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "last_status_code": None,
        "created_at": now,
        "window_from": now,
        "delivered_at": None,
        "ended_at": None,
    }


async def insert_deliveries(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(_deliveries), rows)


async def finish_deliveries(
    *, session: AsyncSession, outcomes: dict[uuid.UUID, dict[str, Any]]
) -> None:
    """Each row's outcome; rows with the same outcome in one statement."""
    groups: dict[str, tuple[dict[str, Any], list[uuid.UUID]]] = {}
    for delivery_id, values in outcomes.items():
        key = repr(sorted(values.items()))
        groups.setdefault(key, (values, []))[1].append(delivery_id)
    for values, ids in groups.values():
        await session.execute(
            sa.update(_deliveries).where(_deliveries.c.id.in_(ids)).values(**values)
        )


async def get_delivery(
    *, session: AsyncSession, delivery_id: uuid.UUID, for_update: bool = False
) -> Delivery | None:
    return await session.get(Delivery, delivery_id, with_for_update=for_update or None)


async def list_deliveries(
    *,
    session: AsyncSession,
    status: str | None,
    bank_id: uuid.UUID | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Delivery], int]:
    where = []
    if status is not None:
        where.append(Delivery.status == status)
    if bank_id is not None:
        where.append(Delivery.bank_id == bank_id)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(*where))
    result = await session.execute(
        select(Delivery)
        .where(*where)
        .order_by(col(Delivery.created_at).desc())
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), total or 0


async def pending_count(*, session: AsyncSession) -> int:
    total = await session.scalar(
        sa.select(sa.func.count())
        .select_from(_deliveries)
        .where(_deliveries.c.status == DeliveryStatus.PENDING)
    )
    return total or 0


# --- callbacks ----------------------------------------------------------------------------------


async def received_events(
    *, session: AsyncSession, bank_id: uuid.UUID, keys: Sequence[str]
) -> dict[str, ReceivedEvent]:
    if not keys:
        return {}
    result = await session.execute(
        select(ReceivedEvent).where(
            ReceivedEvent.bank_id == bank_id, col(ReceivedEvent.event_key).in_(keys)
        )
    )
    return {r.event_key: r for r in result.scalars().all()}


async def lock_loans(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> dict[uuid.UUID, BatchLoan]:
    """The loans, locked in id order (two requests never lock them in crossing orders)."""
    if not loan_ids:
        return {}
    result = await session.execute(
        select(BatchLoan)
        .where(col(BatchLoan.id).in_(loan_ids))
        .order_by(col(BatchLoan.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {loan.id: loan for loan in result.scalars().all()}


async def lock_loans_with_batches(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, BatchLoan], dict[uuid.UUID, Batch], set[uuid.UUID]]:
    """The loans (locked in id order), their batches, and which loans have events held:
    one query for what a bank event needs."""
    if not loan_ids:
        return {}, {}, set()
    held = (
        sa.select(ReceivedEvent.id)
        .where(ReceivedEvent.loan_id == BatchLoan.id, ReceivedEvent.status == "held")
        .exists()
    )
    result = await session.execute(
        select(BatchLoan, Batch, held)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .where(col(BatchLoan.id).in_(loan_ids))
        .order_by(col(BatchLoan.id))
        .with_for_update(of=BatchLoan)
        .execution_options(populate_existing=True)
    )
    loans, batches, waiting = {}, {}, set()
    for loan, batch, has_held in result.all():
        loans[loan.id], batches[batch.id] = loan, batch
        if has_held:
            waiting.add(loan.id)
    return loans, batches, waiting


async def held_events_of(
    *, session: AsyncSession, loan_ids: set[uuid.UUID]
) -> Sequence[ReceivedEvent]:
    if not loan_ids:
        return []
    result = await session.execute(
        select(ReceivedEvent)
        .where(col(ReceivedEvent.loan_id).in_(loan_ids), ReceivedEvent.status == "held")
        .order_by(col(ReceivedEvent.received_at), col(ReceivedEvent.id))
    )
    return result.scalars().all()


class LoanFigures(NamedTuple):
    state: str
    claim_status: str | None
    loans: int
    disbursed_fen: int
    outstanding_fen: int
    compensation_fen: int
    fund_recovered_fen: int


async def loan_figures(*, session: AsyncSession, batch_id: uuid.UUID) -> list[LoanFigures]:
    """The batch's loans summed per (state, claim status), amounts in fen."""
    result = await session.execute(
        sa.select(
            _loans.c.state,
            _loans.c.claim_status,
            sa.func.count(),
            *(
                sa.func.coalesce(sa.func.sum(column), 0)
                for column in (
                    _loans.c.disbursed_fen,
                    _loans.c.outstanding_fen,
                    _loans.c.compensation_fen,
                    _loans.c.fund_recovered_fen,
                )
            ),
        )
        .where(_loans.c.batch_id == batch_id)
        .group_by(_loans.c.state, _loans.c.claim_status)
    )
    return [LoanFigures(state, claim, *(int(v) for v in rest)) for state, claim, *rest in result]


async def batches_by_id(
    *, session: AsyncSession, batch_ids: set[uuid.UUID], for_update: bool = False
) -> dict[uuid.UUID, Batch]:
    if not batch_ids:
        return {}
    query = select(Batch).where(col(Batch.id).in_(batch_ids)).order_by(col(Batch.id))
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return {b.id: b for b in result.scalars().all()}


async def loans_of_bank(*, session: AsyncSession, bank_id: uuid.UUID) -> Sequence[BatchLoan]:
    result = await session.execute(
        select(BatchLoan)
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .where(Batch.bank_id == bank_id)
    )
    return result.scalars().all()


async def held_counts(*, session: AsyncSession, bank_id: uuid.UUID) -> dict[uuid.UUID, int]:
    result = await session.execute(
        sa.select(ReceivedEvent.loan_id, sa.func.count())
        .where(ReceivedEvent.bank_id == bank_id, ReceivedEvent.status == "held")
        .group_by(ReceivedEvent.loan_id)
    )
    return {loan_id: int(n) for loan_id, n in result.all() if loan_id is not None}


async def applied_repayments(
    *, session: AsyncSession, applied_since: date
) -> list[tuple[dict[str, Any], dict[str, Any] | None, str]]:
    """(event payload, loan terms, bank code) of repayments applied since the day."""
    result = await session.execute(
        sa.select(ReceivedEvent.payload, BatchLoan.terms, PartnerBank.code)
        .join(BatchLoan, col(BatchLoan.id) == col(ReceivedEvent.loan_id))
        .join(Batch, col(Batch.id) == col(BatchLoan.batch_id))
        .join(PartnerBank, col(PartnerBank.id) == col(Batch.bank_id))
        .where(
            ReceivedEvent.event_type == "loan.repayment",
            ReceivedEvent.status == "applied",
            col(ReceivedEvent.applied_at) >= datetime.combine(applied_since, time(), UTC),
        )
    )
    return [(payload, terms, code) for payload, terms, code in result.all()]


# --- the tamper-evident audit chain (shared/audit.py) ----------------------------------------


def audit_chains(key: bytes) -> list[AuditChain]:
    table: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]
    return [AuditChain(table, order_by="id", content=AUDIT_LOG_CONTENT, key=key)]
