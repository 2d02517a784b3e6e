"""Bank events move the loan ledger: each recorded once, applied, held or refused. Never
commits.

Each event is recorded under its key in ``received_events`` whatever becomes of it, so the
same key again gets the same answer and has no second effect. An event whose predecessor
has not arrived is held and applied, in arrival order, as soon as the predecessor is; one
that can never apply is refused with the problem of :mod:`exceptions`. What the rules of
:mod:`rules` allow changes the loan, and :mod:`effects` tells the others (the SME's status
page, the fund); a default may suspend the batch (:mod:`risk`).
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks.signatures import CallerBank
from services.bank_gateway.ledger import effects, risk
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger.events import BANK_EVENT, EventData
from services.bank_gateway.ledger.exceptions import (
    AMOUNT_REFUSALS,
    BatchSuspended,
    EventInvalid,
    EventKeyReused,
    EventNotApplicable,
    LoanNotFound,
)
from services.bank_gateway.ledger.figures import Bounds, Figures, LoanState, Refusal
from services.bank_gateway.ledger.rules import Verdict, apply, decide
from services.bank_gateway.ledger.schemas import EventOutcome
from services.bank_gateway.models import AuditEntry, Batch, BatchLoan, BatchStatus, ReceivedEvent
from services.bank_gateway.notifications import service as outbox
from shared import audit
from shared.audit import changes_of
from shared.clock import shanghai_today, strictly_later, utcnow
from shared.errors import AppError

Outbox = list[outbox.Row]


def figures_of(loan: BatchLoan) -> Figures:
    return Figures(
        state=LoanState(loan.state),
        allocated_fen=loan.amount_fen,
        approved_fen=loan.approved_fen,
        disbursed_fen=loan.disbursed_fen,
        outstanding_fen=loan.outstanding_fen,
        repaid_fen=loan.repaid_fen,
        interest_paid_fen=loan.interest_paid_fen,
        recovered_fen=loan.recovered_fen,
        claim_status=loan.claim_status,
        overdue_since=loan.overdue_since,
        defaulted_on=loan.defaulted_on,
        approved_on=loan.approved_on,
        annual_rate=Decimal(loan.annual_interest_rate) if loan.annual_interest_rate else None,
        disbursed_on=loan.disbursed_on,
        payments=tuple((date.fromisoformat(d), p, i) for d, p, i in loan.payments or []),
        ever_overdue=loan.ever_overdue,
    )


def bounds_of(batch: Batch, loan: BatchLoan) -> Bounds:
    """What the bank's figures for this loan are checked against: today, its term, and the
    limits its batch froze from the policy."""
    return Bounds(
        today=shanghai_today(),
        term_months=loan.term_months,
        penalty_interest_markup=Decimal(batch.penalty_interest_markup),
        maturity_grace_days=batch.maturity_grace_days,
    )


def write_back(loan: BatchLoan, figures: Figures) -> None:
    loan.state = figures.state.value
    loan.approved_fen = figures.approved_fen
    loan.disbursed_fen = figures.disbursed_fen
    loan.outstanding_fen = figures.outstanding_fen
    loan.repaid_fen = figures.repaid_fen
    loan.interest_paid_fen = figures.interest_paid_fen
    loan.recovered_fen = figures.recovered_fen
    loan.claim_status = figures.claim_status
    loan.overdue_since = figures.overdue_since
    loan.defaulted_on = figures.defaulted_on
    loan.approved_on = figures.approved_on
    if figures.annual_rate is not None:
        loan.annual_interest_rate = str(figures.annual_rate)
    loan.disbursed_on = figures.disbursed_on
    loan.payments = [[d.isoformat(), p, i] for d, p, i in figures.payments]
    loan.ever_overdue = figures.ever_overdue
    loan.last_event_at = utcnow()


def _refuse(record: ReceivedEvent, error: AppError) -> None:
    record.status = "refused"
    record.problem = error.to_problem()


def _answered(record: ReceivedEvent, loan: BatchLoan | None) -> EventOutcome:
    """Fix the answer to this key now: a repeat gets it again, whatever happened since."""
    record.answer_status = record.status
    record.answer_loan_state = loan.state if loan is not None else None
    return _outcome(record)


def _outcome(record: ReceivedEvent) -> EventOutcome:
    return EventOutcome(
        id=record.event_key,
        status=record.answer_status,
        loan_id=record.loan_id,
        loan_state=record.answer_loan_state,
        problem=record.problem if record.answer_status == "refused" else None,
    )


async def ingest(
    *, session: AsyncSession, bank: CallerBank, key: str, event: dict[str, Any]
) -> EventOutcome:
    """Record and apply one event; the same key again returns the first outcome."""
    [outcome] = await ingest_many(session=session, bank=bank, items=[(key, event)])
    return outcome


async def ingest_bulk(
    *, session: AsyncSession, bank: CallerBank, events: Sequence[dict[str, Any]]
) -> list[EventOutcome]:
    return await ingest_many(
        session=session, bank=bank, items=[(str(event["id"]), event) for event in events]
    )


async def ingest_many(
    *, session: AsyncSession, bank: CallerBank, items: Sequence[tuple[str, dict[str, Any]]]
) -> list[EventOutcome]:
    """Record and apply events in order, each on its own; one answer per item.

    A handful of queries for the whole list, whatever its length: the keys already seen,
    the loans (locked, in id order), their held events; everything written in one flush.
    """
    for attempt in (1, 2):
        try:
            async with session.begin_nested():
                return await _ingest_many(session, bank, items)
        except IntegrityError:
            # Some of these keys were recorded by a concurrent request meanwhile: once more,
            # and they are found and answered as repeats.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class _Parsed:
    __slots__ = ("data", "error", "loan_id", "type")

    def __init__(self, event: dict[str, Any]) -> None:
        self.type: str | None = None
        self.data: Any = None
        self.loan_id: uuid.UUID | None = None
        self.error: str | None = None
        try:
            parsed = BANK_EVENT.validate_python(event)
            self.data = parsed.data
            self.loan_id = uuid.UUID(str(self.data.loan_id))
            self.type = parsed.type
        except (ValidationError, ValueError) as error:
            self.error = _brief(error)


def _brief(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
        )
    return str(error)[:300]


class _Intake:
    """One request's events against the loans they name (locked), with the events already
    held for those loans; collects the outbox rows and which batches saw a default."""

    def __init__(
        self,
        bank: CallerBank,
        loans: dict[uuid.UUID, BatchLoan],
        batches: dict[uuid.UUID, Batch],
        held: dict[uuid.UUID, list[ReceivedEvent]],
    ) -> None:
        self.bank = bank
        self.loans = loans
        self.batches = batches
        self.held = held
        self.out: Outbox = []
        self.defaults_in: set[uuid.UUID] = set()

    def take(self, record: ReceivedEvent, parsed: _Parsed) -> BatchLoan | None:
        """Apply, hold or refuse one new event; the loan it concerns, if this bank's."""
        loan = self.loans.get(parsed.loan_id) if parsed.loan_id is not None else None
        if parsed.error is not None:
            record.loan_id = None
            _refuse(record, EventInvalid(f"事件格式不正确：{parsed.error}"))
            return None
        if loan is None:
            record.loan_id = None
            _refuse(record, LoanNotFound(f"该银行没有贷款 {parsed.loan_id} (no such loan)"))
            return None
        assert parsed.type is not None
        batch = self.batches[loan.batch_id]
        decide_and_apply(self.out, self.bank.code, batch, loan, record, parsed.type, parsed.data)
        if loan.state in risk.IN_DEFAULT:
            self.defaults_in.add(loan.batch_id)
        if record.status == "held":
            self.held[loan.id].append(record)
        elif record.status == "applied":
            release_held(self.out, self.bank.code, batch, loan, self.held[loan.id])
        return loan


async def _ingest_many(
    session: AsyncSession, bank: CallerBank, items: Sequence[tuple[str, dict[str, Any]]]
) -> list[EventOutcome]:
    keys = list(dict.fromkeys(key for key, _ in items))
    seen = await repo.received_events(session=session, bank_id=bank.id, keys=keys)
    answers = {key: _outcome(record) for key, record in seen.items()}
    # The body each key stands for: the one recorded before, else its first in this request.
    bodies = {key: record.payload for key, record in seen.items()}
    fresh: dict[str, tuple[dict[str, Any], _Parsed]] = {}
    for key, event in items:
        if key not in bodies:
            bodies[key] = event
            fresh[key] = (event, _Parsed(event))
    loan_ids = {p.loan_id for _, p in fresh.values() if p.loan_id is not None}
    loans, batches, waiting = await repo.lock_loans_with_batches(session=session, loan_ids=loan_ids)
    mine = {
        i: loan
        for i, loan in loans.items()
        if loan.batch_id in batches and batches[loan.batch_id].bank_id == bank.id
    }
    held: dict[uuid.UUID, list[ReceivedEvent]] = {i: [] for i in mine}
    for record in await repo.held_events_of(session=session, loan_ids=waiting & set(mine)):
        held[record.loan_id].append(record)  # type: ignore[index]
    intake = _Intake(bank, mine, batches, held)
    received: dict[uuid.UUID, list[str]] = {}
    for key, (event, parsed) in fresh.items():
        record = ReceivedEvent(
            # Given, not defaulted: pydantic inspects a default factory's signature per call.
            id=uuid.uuid4(),
            received_at=strictly_later(),
            bank_id=bank.id,
            event_key=key,
            event_type=str(event.get("type", ""))[:50],
            payload=event,
            status="refused",
            loan_id=parsed.loan_id,
        )
        repo.add(session, record)
        loan = intake.take(record, parsed)
        answers[key] = _answered(record, loan)
        if loan is not None:
            received.setdefault(loan.id, []).append(key)
    audit_loans(session, f"bank:{bank.code}", mine.values(), received)
    await outbox.send(session=session, rows=intake.out)
    await session.flush()
    if intake.defaults_in:
        await risk.suspend_if_over(session, intake.defaults_in)
        await session.flush()
    return [answers[key] if event == bodies[key] else _reused(key) for key, event in items]


def _reused(key: str) -> EventOutcome:
    """A key already standing for another event: answered, not recorded (the first stands)."""
    problem = EventKeyReused(
        f"事件编号 {key} 已用于另一内容的事件，本事件未被受理；请为新事件使用新的编号 "
        "(this key was used for another event: use a new one)"
    )
    return EventOutcome(id=key, status="refused", problem=problem.to_problem())


def audit_loans(
    session: AsyncSession,
    actor: str,
    loans: Iterable[BatchLoan],
    received: Mapping[uuid.UUID, list[str]],
) -> None:
    """One audit entry per loan whose ledger moved: its figures before and after."""
    for loan in loans:
        if changes_of(loan)[1]:
            audit.append(
                session,
                AuditEntry,
                actor=actor,
                action="loan.ledger_changed",
                entity_type="batch_loan",
                entity_id=str(loan.id),
                detail={"state": loan.state, "event_keys": received.get(loan.id, [])},
                entity=loan,
            )


def _apply_to_loan(
    out: Outbox,
    bank_code: str,
    batch: Batch,
    loan: BatchLoan,
    record: ReceivedEvent,
    event_type: str,
    data: EventData,
) -> Refusal | None:
    result = apply(figures_of(loan), event_type, data, bounds_of(batch, loan))
    if isinstance(result, Refusal):
        return result
    write_back(loan, result)
    if event_type == "loan.disbursed":
        loan.maturity_on = data.maturity_on  # type: ignore[attr-defined]
    out.extend(effects.of_event(bank_code, batch, loan, record.id, event_type, data))
    return None


def decide_and_apply(
    out: Outbox,
    bank_code: str,
    batch: Batch,
    loan: BatchLoan,
    record: ReceivedEvent,
    event_type: str,
    data: EventData,
) -> None:
    """Set ``record.status`` (applied | held | refused, with the problem) and move the loan."""
    if event_type == "loan.approved" and batch.status == BatchStatus.SUSPENDED:
        _refuse(
            record,
            BatchSuspended(
                "批次已因损失率达到暂停线而暂停，不接受新的批准 (the batch is suspended: new "
                "approvals are refused until it is reopened)"
            ),
        )
        return
    verdict = decide(LoanState(loan.state), event_type, claim_status=loan.claim_status)
    if verdict is Verdict.HOLD:
        record.status = "held"
        return
    if verdict is Verdict.REFUSE:
        _refuse(
            record,
            EventNotApplicable(
                f"贷款当前为 {loan.state}，{event_type} 不能再适用 "
                f"({event_type} can never apply to a loan that is {loan.state})"
            ),
        )
        return
    refusal = _apply_to_loan(out, bank_code, batch, loan, record, event_type, data)
    if refusal is not None and refusal.may_fit_later:
        record.status = "held"
    elif refusal is not None:
        error = AMOUNT_REFUSALS[refusal.code]
        _refuse(record, error(f"{refusal.message_zh} ({refusal.message_en})"))
    else:
        record.status, record.applied_at = "applied", utcnow()


def release_held(
    out: Outbox, bank_code: str, batch: Batch, loan: BatchLoan, waiting: list[ReceivedEvent]
) -> None:
    """Apply held events of ``loan`` that now can, oldest first, until none can."""
    progress = True
    while progress:
        progress = False
        for record in [r for r in waiting if r.status == "held"]:
            parsed = BANK_EVENT.validate_python(record.payload)
            decide_and_apply(out, bank_code, batch, loan, record, parsed.type, parsed.data)
            if record.status == "applied":
                progress = True
                break  # the state moved: look at the held ones again from the oldest
            if record.status == "refused" and not record.problem:
                _refuse(record, EventNotApplicable("该事件不能再适用 (can no longer apply)"))
