"""Bank callbacks: verify the signature, record each event once, move the loan ledger.

Never commits. Each event is recorded under its key in ``received_events`` whatever
becomes of it, so the same key again gets the same answer and has no second effect. An
event whose predecessor has not arrived is held and applied, in arrival order, as soon as
the predecessor is; one that can never apply is refused with a stable problem type. Every
change of a loan's state is also queued for loan_intake (the SME's status page).
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.bank_gateway import repository as repo
from services.bank_gateway.exceptions import SignatureInvalid
from services.bank_gateway.ledger import (
    EVENT_DATA,
    BankEvent,
    Figures,
    LoanState,
    Refusal,
    Verdict,
    apply,
    decide,
)
from services.bank_gateway.models import (
    BatchLoan,
    BatchStatus,
    Delivery,
    DeliveryKind,
    EventOutcome,
    PartnerBank,
    ReceivedEvent,
)
from services.bank_gateway.risk import suspend_if_over
from shared.clock import utcnow
from shared.errors import problem_type
from shared.money import from_fen

_REFUSAL_STATUS = {
    "event-invalid": 422,
    "loan-not-found": 404,
    "event-not-applicable": 409,
    "batch-suspended": 409,
}


async def verify_signature(
    *, session: AsyncSession, bank: PartnerBank, body: bytes, headers: Mapping[str, str]
) -> None:
    """Standard Webhooks: HMAC over ``{id}.{timestamp}.{raw body}`` with any valid secret,
    timestamp within ±5 minutes. Anything wrong — forged, stale, malformed — is a 401."""
    secrets = await repo.valid_signing_secrets(session=session, bank_ids=[bank.id], now=utcnow())
    wanted = {
        k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    for secret in secrets:
        try:
            Webhook(secret.secret).verify(body, wanted, json_parse=False)
        except Exception:  # noqa: S112 - malformed headers raise several types
            continue
        return
    raise SignatureInvalid(
        "签名无效、已过期或缺失 (webhook-id / webhook-timestamp / webhook-signature)"
    )


def _problem(code: str, zh: str, en: str) -> dict[str, Any]:
    return {
        "type": problem_type(code),
        "title": zh,
        "status": _REFUSAL_STATUS.get(code, 422),
        "detail": en,
    }


def _figures(loan: BatchLoan) -> Figures:
    return Figures(
        state=LoanState(loan.state),
        allocated_fen=loan.amount_fen,
        approved_fen=loan.approved_fen,
        disbursed_fen=loan.disbursed_fen,
        outstanding_fen=loan.outstanding_fen,
        repaid_fen=loan.repaid_fen,
        interest_paid_fen=loan.interest_paid_fen,
        recovered_fen=loan.recovered_fen,
    )


def _update_text(event_type: str, data: Any, loan: BatchLoan) -> tuple[str, dict[str, Any]]:
    """What the SME reads in its history, and the figures shown with it."""
    outstanding = str(from_fen(loan.outstanding_fen))
    if event_type == "loan.approved":
        return (
            f"银行已批准，金额 {data.approved_amount} 元，年利率 {data.annual_interest_rate}",
            {"approved_amount": str(data.approved_amount), "on": data.approved_on.isoformat()},
        )
    if event_type == "loan.declined":
        return f"银行未批准：{data.reason}", {"on": data.declined_on.isoformat()}
    if event_type == "loan.disbursed":
        return (
            f"银行已放款 {data.amount} 元，到期日 {data.maturity_on}",
            {
                "amount": str(data.amount),
                "on": data.disbursed_on.isoformat(),
                "maturity_on": data.maturity_on.isoformat(),
            },
        )
    if event_type == "loan.repayment":
        return (
            f"已还本金 {data.principal} 元、利息 {data.interest} 元，剩余本金 {outstanding} 元",
            {
                "principal": str(data.principal),
                "interest": str(data.interest),
                "outstanding": outstanding,
                "on": data.paid_on.isoformat(),
            },
        )
    if event_type == "loan.overdue":
        return (
            f"逾期本金 {data.overdue_principal} 元（自 {data.since} 起）",
            {"overdue_principal": str(data.overdue_principal), "since": data.since.isoformat()},
        )
    if event_type == "loan.defaulted":
        return f"贷款违约，未偿本金 {outstanding} 元", {"outstanding": outstanding}
    if event_type == "loan.recovered":
        return f"追回 {data.amount} 元", {"amount": str(data.amount)}
    return "贷款已结清", {"on": data.settled_on.isoformat()}


def _apply_to_loan(
    session: AsyncSession, bank: PartnerBank, loan: BatchLoan, event_type: str, data: Any
) -> Refusal | None:
    result = apply(_figures(loan), event_type, data)
    if isinstance(result, Refusal):
        return result
    loan.state = result.state.value
    loan.approved_fen = result.approved_fen
    loan.disbursed_fen = result.disbursed_fen
    loan.outstanding_fen = result.outstanding_fen
    loan.repaid_fen = result.repaid_fen
    loan.interest_paid_fen = result.interest_paid_fen
    loan.recovered_fen = result.recovered_fen
    loan.last_event_at = utcnow()
    if event_type == "loan.approved":
        loan.annual_interest_rate = str(data.annual_interest_rate)
    if event_type == "loan.disbursed":
        loan.disbursed_on, loan.maturity_on = data.disbursed_on, data.maturity_on
        # 备案: the guarantee service issues the guarantee for the disbursed loan.
        repo.add(
            session,
            Delivery(
                kind=DeliveryKind.GUARANTEE,
                event_type="guarantee.filing",
                payload={
                    "loan_id": str(loan.id),
                    "application_id": str(loan.application_id),
                    "batch_id": str(loan.batch_id),
                    "bank_code": bank.code,
                    "principal": str(data.amount),
                    "disbursed_on": data.disbursed_on.isoformat(),
                    "maturity_on": data.maturity_on.isoformat(),
                },
            ),
        )
    reason, details = _update_text(event_type, data, loan)
    repo.add(
        session,
        Delivery(
            kind=DeliveryKind.INTAKE,
            event_type=event_type,
            application_id=loan.application_id,
            payload={
                "status": loan.state,
                "occurred_at": utcnow().isoformat(),
                "reason_zh": reason,
                "batch_id": str(loan.batch_id),
                "bank_code": bank.code,
                "details": details,
            },
        ),
    )
    return None


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
    *, session: AsyncSession, bank: PartnerBank, key: str, event: dict[str, Any]
) -> EventOutcome:
    """Record and apply one event; the same key again returns the first outcome."""
    [outcome] = await ingest_many(session=session, bank=bank, items=[(key, event)])
    return outcome


async def ingest_many(
    *, session: AsyncSession, bank: PartnerBank, items: Sequence[tuple[str, dict[str, Any]]]
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
            parsed = BankEvent.model_validate(event)
            self.data = EVENT_DATA[parsed.type].model_validate(parsed.data)
            self.loan_id = uuid.UUID(str(self.data.loan_id))
            self.type = parsed.type
        except (ValidationError, ValueError) as error:
            self.error = _brief(error)


async def _ingest_many(
    session: AsyncSession, bank: PartnerBank, items: Sequence[tuple[str, dict[str, Any]]]
) -> list[EventOutcome]:
    keys = list(dict.fromkeys(key for key, _ in items))
    answers = {
        key: _outcome(record)
        for key, record in (
            await repo.received_events(session=session, bank_id=bank.id, keys=keys)
        ).items()
    }
    fresh: list[tuple[str, dict[str, Any], _Parsed]] = []
    pending_keys: set[str] = set()
    for key, event in items:
        if key in answers or key in pending_keys:
            continue
        pending_keys.add(key)
        fresh.append((key, event, _Parsed(event)))
    loan_ids = {p.loan_id for _, _, p in fresh if p.loan_id is not None}
    loans = await repo.lock_loans(session=session, loan_ids=loan_ids)
    batches = await repo.batches_by_id(
        session=session, batch_ids={x.batch_id for x in loans.values()}
    )
    mine = {
        i: loan
        for i, loan in loans.items()
        if loan.batch_id in batches and batches[loan.batch_id].bank_id == bank.id
    }
    suspended = {b.id for b in batches.values() if b.status == BatchStatus.SUSPENDED}
    defaults_in: set[uuid.UUID] = set()
    held: dict[uuid.UUID, list[ReceivedEvent]] = {i: [] for i in mine}
    for record in await repo.held_events_of(session=session, loan_ids=set(mine)):
        held[record.loan_id].append(record)  # type: ignore[index]

    for key, event, parsed in fresh:
        record = ReceivedEvent(
            bank_id=bank.id,
            event_key=key,
            event_type=str(event.get("type", ""))[:50],
            payload=event,
            status="refused",
            loan_id=parsed.loan_id,
        )
        repo.add(session, record)
        loan = mine.get(parsed.loan_id) if parsed.loan_id is not None else None
        if parsed.error is not None:
            record.loan_id = None
            record.problem = _problem("event-invalid", "事件格式不正确", parsed.error)
        elif loan is None:
            record.loan_id = None
            record.problem = _problem(
                "loan-not-found", "没有该贷款", f"no loan {parsed.loan_id} for this bank"
            )
        else:
            assert parsed.type is not None
            halted = loan.batch_id in suspended
            _decide_and_apply(session, bank, loan, record, parsed.type, parsed.data, halted)
            if loan.state in ("defaulted", "recovering"):
                defaults_in.add(loan.batch_id)
            if record.status == "held":
                held[loan.id].append(record)
            elif record.status == "applied":
                _release_held(session, bank, loan, held[loan.id], halted)
        answers[key] = _answered(record, loan)
    await session.flush()
    if defaults_in:
        await suspend_if_over(session, defaults_in)
        await session.flush()
    return [answers[key] for key, _ in items]


def _decide_and_apply(
    session: AsyncSession,
    bank: PartnerBank,
    loan: BatchLoan,
    record: ReceivedEvent,
    event_type: str,
    data: Any,
    suspended: bool,
) -> None:
    """Set ``record.status`` (applied | held | refused, with the problem) and move the loan."""
    if event_type == "loan.approved" and suspended:
        record.status = "refused"
        record.problem = _problem(
            "batch-suspended",
            "批次已因损失率达到暂停线而暂停，不接受新的批准",
            "the batch is suspended: new approvals are refused until it is reopened",
        )
        return
    verdict = decide(LoanState(loan.state), event_type)
    if verdict is Verdict.HOLD:
        record.status = "held"
        return
    if verdict is Verdict.REFUSE:
        record.status = "refused"
        record.problem = _problem(
            "event-not-applicable",
            f"贷款当前为 {loan.state}，{event_type} 不能再适用",
            f"{event_type} can never apply to a loan that is {loan.state}",
        )
        return
    refusal = _apply_to_loan(session, bank, loan, event_type, data)
    if refusal is not None and refusal.may_fit_later:
        record.status = "held"
    elif refusal is not None:
        record.status = "refused"
        record.problem = _problem(refusal.code, refusal.message_zh, refusal.message_en)
    else:
        record.status, record.applied_at = "applied", utcnow()


def _release_held(
    session: AsyncSession,
    bank: PartnerBank,
    loan: BatchLoan,
    waiting: list[ReceivedEvent],
    suspended: bool,
) -> None:
    """Apply held events of ``loan`` that now can, oldest first, until none can."""
    progress = True
    while progress:
        progress = False
        for record in [r for r in waiting if r.status == "held"]:
            parsed = BankEvent.model_validate(record.payload)
            data = EVENT_DATA[parsed.type].model_validate(parsed.data)
            _decide_and_apply(session, bank, loan, record, parsed.type, data, suspended)
            if record.status == "applied":
                progress = True
                break  # the state moved: look at the held ones again from the oldest
            if record.status == "refused":
                record.problem = record.problem or _problem(
                    "event-not-applicable", "该事件不能再适用", "can no longer apply"
                )


def _brief(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
        )
    return str(error)[:300]


def parse_body(body: bytes) -> Any:
    """The raw body as JSON (it was verified as bytes first); None if it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


async def ingest_bulk(
    *, session: AsyncSession, bank: PartnerBank, events: Sequence[dict[str, Any]]
) -> list[EventOutcome]:
    return await ingest_many(
        session=session, bank=bank, items=[(str(event["id"]), event) for event in events]
    )
