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
    Delivery,
    DeliveryKind,
    EventOutcome,
    PartnerBank,
    ReceivedEvent,
)
from shared.clock import utcnow
from shared.errors import problem_type
from shared.money import from_fen

_REFUSAL_STATUS = {"event-invalid": 422, "loan-not-found": 404, "event-not-applicable": 409}


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
    previous = await repo.received_event(session=session, bank_id=bank.id, key=key)
    if previous is not None:
        return _outcome(previous)
    try:
        async with session.begin_nested():
            return await _ingest_new(session, bank, key, event)
    except IntegrityError:
        # The same key, sent twice at once: the other request recorded it.
        previous = await repo.received_event(session=session, bank_id=bank.id, key=key)
        assert previous is not None
        return _outcome(previous)


async def _ingest_new(
    session: AsyncSession, bank: PartnerBank, key: str, event: dict[str, Any]
) -> EventOutcome:
    record = ReceivedEvent(
        bank_id=bank.id,
        event_key=key,
        event_type=str(event.get("type", ""))[:50],
        payload=event,
        status="refused",
    )

    async def refuse(code: str, zh: str, en: str, loan: BatchLoan | None = None) -> EventOutcome:
        record.problem = _problem(code, zh, en)
        outcome = _answered(record, loan)
        repo.add(session, record)
        await session.flush()
        return outcome

    try:
        parsed = BankEvent.model_validate(event)
        data = EVENT_DATA[parsed.type].model_validate(parsed.data)
        loan_id = uuid.UUID(str(data.loan_id))
    except (ValidationError, ValueError) as error:
        return await refuse("event-invalid", "事件格式不正确", _brief(error))
    record.loan_id = loan_id
    loan = await repo.get_loan(session=session, loan_id=loan_id, for_update=True)
    if loan is None or not await repo.loan_belongs_to(session=session, loan=loan, bank=bank):
        record.loan_id = None
        return await refuse("loan-not-found", "没有该贷款", f"no loan {loan_id} for this bank")
    verdict = decide(LoanState(loan.state), parsed.type)
    if verdict is Verdict.REFUSE:
        return await refuse(
            "event-not-applicable",
            f"贷款当前为 {loan.state}，{parsed.type} 不能再适用",
            f"{parsed.type} can never apply to a loan that is {loan.state}",
            loan,
        )
    if verdict is Verdict.HOLD:
        record.status = "held"
        outcome = _answered(record, loan)
        repo.add(session, record)
        await session.flush()
        return outcome
    refusal = _apply_to_loan(session, bank, loan, parsed.type, data)
    if refusal is not None and refusal.may_fit_later:
        record.status = "held"
        outcome = _answered(record, loan)
        repo.add(session, record)
        await session.flush()
        return outcome
    if refusal is not None:
        return await refuse(refusal.code, refusal.message_zh, refusal.message_en, loan)
    record.status, record.applied_at = "applied", utcnow()
    repo.add(session, record)
    await session.flush()
    await _release_held(session, bank, loan)
    # The answer shows where the loan stands now, held events released included.
    return _answered(record, loan)


async def _release_held(session: AsyncSession, bank: PartnerBank, loan: BatchLoan) -> None:
    """Apply held events of ``loan`` that now can, oldest first, until none can."""
    progress = True
    while progress:
        progress = False
        for held in await repo.held_events(session=session, loan_id=loan.id):
            verdict = decide(LoanState(loan.state), held.event_type)
            if verdict is Verdict.HOLD:
                continue
            if verdict is Verdict.REFUSE:
                held.status = "refused"
                held.problem = _problem(
                    "event-not-applicable",
                    f"贷款已变为 {loan.state}，该事件不能再适用",
                    f"{held.event_type} can no longer apply ({loan.state})",
                )
                continue
            parsed = BankEvent.model_validate(held.payload)
            data = EVENT_DATA[parsed.type].model_validate(parsed.data)
            refusal = _apply_to_loan(session, bank, loan, parsed.type, data)
            if refusal is not None and refusal.may_fit_later:
                continue
            if refusal is not None:
                held.status = "refused"
                held.problem = _problem(refusal.code, refusal.message_zh, refusal.message_en)
                continue
            held.status, held.applied_at = "applied", utcnow()
            progress = True
            break  # the state moved: look at the held ones again from the oldest
        await session.flush()


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
    return [
        await ingest(session=session, bank=bank, key=str(event["id"]), event=event)
        for event in events
    ]
