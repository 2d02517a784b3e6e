"""Bank callbacks: verify the signature, record each event once, move the loan ledger.

Never commits. Each event is recorded under its key in ``received_events`` whatever
becomes of it, so the same key again gets the same answer and has no second effect. An
event whose predecessor has not arrived is held and applied, in arrival order, as soon as
the predecessor is; one that can never apply is refused with a stable problem type. Every
change of a loan's state is also queued for loan_intake (the SME's status page).
"""

import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.bank_gateway import notices
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
    decided,
)
from services.bank_gateway.models import (
    Batch,
    BatchLoan,
    BatchStatus,
    DeliveryKind,
    EventOutcome,
    PartnerBank,
    ReceivedEvent,
)
from services.bank_gateway.risk import IN_DEFAULT, suspend_if_over
from shared.audit import changes_of
from shared.clock import utcnow
from shared.contracts.claims import ClaimDecision, ClaimRequest, RecoveryReport, RecoveryShare
from shared.contracts.guarantee import GuaranteeFiling
from shared.errors import Unauthenticated, problem_type
from shared.money import from_fen, to_fen

# Deliveries to write, as rows: inserted in one statement once the events are applied.
Outbox = list[dict[str, Any]]

_REFUSAL_STATUS = {
    "event-invalid": 422,
    "loan-not-found": 404,
    "event-not-applicable": 409,
    "batch-suspended": 409,
}


@dataclass(frozen=True)
class CallerBank:
    """A bank as its callbacks need it."""

    id: uuid.UUID
    code: str
    active: bool
    secrets: tuple[tuple[str, datetime | None], ...]  # (secret, retires at)

    def valid_secrets(self, now: datetime) -> list[str]:
        return [secret for secret, retires in self.secrets if retires is None or retires > now]


class CallerBanks:
    """Banks and their signing secrets, kept a few seconds: two queries less per callback.

    A signature that fails against the kept secrets is checked once more against fresh ones,
    so a rotation counts at once; a secret's retirement is checked against the clock; only
    deactivating a bank takes up to ``ttl_seconds`` to be seen."""

    def __init__(self, ttl_seconds: float = 10.0) -> None:
        self._ttl = ttl_seconds
        self._kept: dict[str, tuple[float, CallerBank | None]] = {}

    async def get(
        self, session: AsyncSession, code: str, *, fresh: bool = False
    ) -> CallerBank | None:
        kept = self._kept.get(code)
        if kept is not None and not fresh and kept[0] > time.monotonic():
            return kept[1]
        bank = await repo.get_bank_by_code(session=session, code=code)
        found = None
        if bank is not None:
            secrets = await repo.valid_signing_secrets(
                session=session, bank_ids=[bank.id], now=utcnow()
            )
            found = CallerBank(
                id=bank.id,
                code=bank.code,
                active=bank.active,
                secrets=tuple((s.secret, s.retires_at) for s in secrets),
            )
        self._kept[code] = (time.monotonic() + self._ttl, found)
        return found


# Where only a bank's id and code are needed: the one that called, or one read to notify.
AnyBank = PartnerBank | CallerBank


def _signature_holds(bank: CallerBank, body: bytes, headers: Mapping[str, str]) -> bool:
    wanted = {
        k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    for secret in bank.valid_secrets(utcnow()):
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
        except Exception:  # noqa: S112 - malformed headers raise several types
            continue
        return True
    return False


async def verify_signature(
    *,
    session: AsyncSession,
    banks: CallerBanks,
    code: str,
    body: bytes,
    headers: Mapping[str, str],
) -> CallerBank:
    """The calling bank, once its Standard Webhooks signature holds: HMAC over
    ``{id}.{timestamp}.{raw body}`` with any valid secret, timestamp within ±5 minutes.
    Anything wrong — forged, stale, malformed — is a 401."""
    bank = await banks.get(session, code)
    if bank is not None and bank.active and _signature_holds(bank, body, headers):
        return bank
    bank = await banks.get(session, code, fresh=True)  # rotated a moment ago?
    if bank is None or not bank.active:
        raise Unauthenticated("该银行不存在或已停用")
    if _signature_holds(bank, body, headers):
        return bank
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
        claim_status=loan.claim_status,
        overdue_since=loan.overdue_since,
    )


def _write_back(loan: BatchLoan, figures: Figures) -> None:
    loan.state = figures.state.value
    loan.approved_fen = figures.approved_fen
    loan.disbursed_fen = figures.disbursed_fen
    loan.outstanding_fen = figures.outstanding_fen
    loan.repaid_fen = figures.repaid_fen
    loan.interest_paid_fen = figures.interest_paid_fen
    loan.recovered_fen = figures.recovered_fen
    loan.claim_status = figures.claim_status
    loan.overdue_since = figures.overdue_since
    loan.last_event_at = utcnow()


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
    if event_type == "claim.submitted":
        return (
            f"银行已向担保基金申请代偿：未偿本金 {data.outstanding_principal} 元、"
            f"利息 {data.interest_due} 元",
            {
                "outstanding": str(data.outstanding_principal),
                "interest_due": str(data.interest_due),
                "on": data.submitted_on.isoformat(),
            },
        )
    if event_type == "loan.recovered":
        return (
            f"追回 {data.amount} 元，累计追回 {from_fen(loan.recovered_fen)} 元",
            {"amount": str(data.amount), "on": data.recovered_on.isoformat()},
        )
    return "贷款已结清", {"on": data.settled_on.isoformat()}


def _apply_to_loan(
    out: Outbox,
    bank: AnyBank,
    batch: Batch,
    loan: BatchLoan,
    record: ReceivedEvent,
    event_type: str,
    data: Any,
) -> Refusal | None:
    result = apply(_figures(loan), event_type, data)
    if isinstance(result, Refusal):
        return result
    _write_back(loan, result)
    if event_type == "loan.approved":
        loan.annual_interest_rate = str(data.annual_interest_rate)
    if event_type == "loan.disbursed":
        loan.disbursed_on, loan.maturity_on = data.disbursed_on, data.maturity_on
        # 备案: the guarantee service issues the guarantee for the disbursed loan.
        _to_guarantee(
            out,
            loan,
            "guarantee.filing",
            GuaranteeFiling(
                loan_id=loan.id,
                application_id=loan.application_id,
                batch_id=loan.batch_id,
                bank_code=bank.code,
                principal=data.amount,
                disbursed_on=data.disbursed_on,
                maturity_on=data.maturity_on,
            ),
        )
    if event_type == "claim.submitted":
        _to_guarantee(
            out,
            loan,
            "guarantee.claim",
            ClaimRequest(
                loan_id=loan.id,
                application_id=loan.application_id,
                batch_id=loan.batch_id,
                bank_code=bank.code,
                outstanding_principal=data.outstanding_principal,
                interest_due=data.interest_due,
                annual_interest_rate=Decimal(loan.annual_interest_rate or "0"),
                submitted_on=data.submitted_on,
                compensation_ceiling=Decimal(batch.compensation_ceiling),
            ),
        )
    if event_type == "loan.recovered" and loan.compensation_fen > 0:
        # The fund paid: it takes its share of what is recovered.
        _to_guarantee(
            out,
            loan,
            "guarantee.recovery",
            RecoveryReport(
                recovery_id=record.id, amount=data.amount, recovered_on=data.recovered_on
            ),
        )
    reason, details = _update_text(event_type, data, loan)
    _to_intake(out, bank, loan, event_type, reason, details)
    return None


def _to_guarantee(out: Outbox, loan: BatchLoan, kind: str, body: BaseModel) -> None:
    # application_id orders a loan's filings, claim and recoveries (see claim_deliveries).
    out.append(
        repo.delivery_row(
            kind=DeliveryKind.GUARANTEE,
            event_type=kind,
            application_id=loan.application_id,
            payload={**body.model_dump(mode="json"), "loan_id": str(loan.id)},
        )
    )


def _to_intake(
    out: Outbox,
    bank: AnyBank,
    loan: BatchLoan,
    event_type: str,
    reason: str,
    details: dict[str, Any],
) -> None:
    out.append(
        repo.delivery_row(
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
        )
    )


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
    *, session: AsyncSession, bank: AnyBank, key: str, event: dict[str, Any]
) -> EventOutcome:
    """Record and apply one event; the same key again returns the first outcome."""
    [outcome] = await ingest_many(session=session, bank=bank, items=[(key, event)])
    return outcome


async def ingest_many(
    *, session: AsyncSession, bank: AnyBank, items: Sequence[tuple[str, dict[str, Any]]]
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
    session: AsyncSession, bank: AnyBank, items: Sequence[tuple[str, dict[str, Any]]]
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
    loans, batches, waiting = await repo.lock_loans_with_batches(session=session, loan_ids=loan_ids)
    mine = {
        i: loan
        for i, loan in loans.items()
        if loan.batch_id in batches and batches[loan.batch_id].bank_id == bank.id
    }
    defaults_in: set[uuid.UUID] = set()
    held: dict[uuid.UUID, list[ReceivedEvent]] = {i: [] for i in mine}
    for record in await repo.held_events_of(session=session, loan_ids=waiting & set(mine)):
        held[record.loan_id].append(record)  # type: ignore[index]

    out: Outbox = []
    received: dict[uuid.UUID, list[str]] = {}
    for key, event, parsed in fresh:
        record = ReceivedEvent(
            # Given, not defaulted: pydantic inspects a default factory's signature per call.
            id=uuid.uuid4(),
            received_at=repo.strictly_later(),
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
            batch = batches[loan.batch_id]
            _decide_and_apply(out, bank, batch, loan, record, parsed.type, parsed.data)
            if loan.state in IN_DEFAULT:
                defaults_in.add(loan.batch_id)
            if record.status == "held":
                held[loan.id].append(record)
            elif record.status == "applied":
                _release_held(out, bank, batch, loan, held[loan.id])
        answers[key] = _answered(record, loan)
        if loan is not None:
            received.setdefault(loan.id, []).append(key)
    await _audit_loans(session, f"bank:{bank.code}", mine.values(), received)
    await repo.insert_deliveries(session=session, rows=out)
    await session.flush()
    if defaults_in:
        await suspend_if_over(session, defaults_in)
        await session.flush()
    return [answers[key] for key, _ in items]


async def _audit_loans(
    session: AsyncSession,
    actor: str,
    loans: Iterable[BatchLoan],
    received: Mapping[uuid.UUID, list[str]],
) -> None:
    """One audit entry per loan whose ledger moved: its figures before and after."""
    for loan in loans:
        if changes_of(loan)[1]:
            await repo.audit(
                session=session,
                actor=actor,
                action="loan.ledger_changed",
                entity_type="batch_loan",
                entity_id=str(loan.id),
                detail={"state": loan.state, "event_keys": received.get(loan.id, [])},
                entity=loan,
            )


def _decide_and_apply(
    out: Outbox,
    bank: AnyBank,
    batch: Batch,
    loan: BatchLoan,
    record: ReceivedEvent,
    event_type: str,
    data: Any,
) -> None:
    """Set ``record.status`` (applied | held | refused, with the problem) and move the loan."""
    if event_type == "loan.approved" and batch.status == BatchStatus.SUSPENDED:
        record.status = "refused"
        record.problem = _problem(
            "batch-suspended",
            "批次已因损失率达到暂停线而暂停，不接受新的批准",
            "the batch is suspended: new approvals are refused until it is reopened",
        )
        return
    verdict = decide(LoanState(loan.state), event_type, claim_status=loan.claim_status)
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
    refusal = _apply_to_loan(out, bank, batch, loan, record, event_type, data)
    if refusal is not None and refusal.may_fit_later:
        record.status = "held"
    elif refusal is not None:
        record.status = "refused"
        record.problem = _problem(refusal.code, refusal.message_zh, refusal.message_en)
    else:
        record.status, record.applied_at = "applied", utcnow()


def _release_held(
    out: Outbox,
    bank: AnyBank,
    batch: Batch,
    loan: BatchLoan,
    waiting: list[ReceivedEvent],
) -> None:
    """Apply held events of ``loan`` that now can, oldest first, until none can."""
    progress = True
    while progress:
        progress = False
        for record in [r for r in waiting if r.status == "held"]:
            parsed = BankEvent.model_validate(record.payload)
            data = EVENT_DATA[parsed.type].model_validate(parsed.data)
            _decide_and_apply(out, bank, batch, loan, record, parsed.type, data)
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
    *, session: AsyncSession, bank: AnyBank, events: Sequence[dict[str, Any]]
) -> list[EventOutcome]:
    return await ingest_many(
        session=session, bank=bank, items=[(str(event["id"]), event) for event in events]
    )


# --- the guarantee service's answers -----------------------------------------------------------


async def apply_claim_decision(*, session: AsyncSession, decision: ClaimDecision) -> None:
    """The fund decided a loan's claim: record it on the loan, tell the bank
    (``claim.decided``) and the SME, apply what waited for it. A repeat changes nothing."""
    loans = await repo.lock_loans(session=session, loan_ids={decision.loan_id})
    loan = loans.get(decision.loan_id)
    if loan is None or loan.claim_status != "pending":
        return
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    bank = await repo.get_bank(session=session, bank_id=batch.bank_id)
    assert bank is not None
    payout = to_fen(decision.payout)
    _write_back(loan, decided(_figures(loan), outcome=decision.outcome.value, payout_fen=payout))
    loan.compensation_fen = payout
    loan.claim_decided_at = decision.decided_at
    out: Outbox = [
        repo.delivery_row(
            kind=DeliveryKind.WEBHOOK,
            event_type="claim.decided",
            bank_id=bank.id,
            payload=notices.payload("claim.decided", decision),
        )
    ]
    if payout > 0:
        reason = f"担保基金已代偿 {decision.payout} 元"
        if decision.refused:
            reason += f"（其余 {decision.refused} 元因批次代偿上限未予代偿）"
    else:
        reason = "担保基金未予代偿：批次代偿已达上限"
    _to_intake(
        out,
        bank,
        loan,
        "claim.decided",
        reason,
        {
            "outcome": decision.outcome.value,
            "payout": str(decision.payout),
            "refused": str(decision.refused),
            "on": decision.decided_at.isoformat(),
        },
    )
    waiting = list(await repo.held_events_of(session=session, loan_ids={loan.id}))
    _release_held(out, bank, batch, loan, waiting)
    await _audit_loans(session, "service:guarantee", [loan], {})
    await repo.insert_deliveries(session=session, rows=out)
    await session.flush()
    await suspend_if_over(session, {batch.id})


async def apply_recovery_share(*, session: AsyncSession, share: RecoveryShare) -> None:
    """The fund's running share of a loan's recoveries; the bank is told what it owes."""
    loans = await repo.lock_loans(session=session, loan_ids={share.loan_id})
    loan = loans.get(share.loan_id)
    if loan is None:
        return
    fund_total = to_fen(share.fund_recovered_total)
    if fund_total <= loan.fund_recovered_fen:
        return  # a repeat, or an older share than one already recorded
    loan.fund_recovered_fen = fund_total
    batch = await repo.get_batch(session=session, batch_id=loan.batch_id)
    assert batch is not None
    notice = repo.delivery_row(
        kind=DeliveryKind.WEBHOOK,
        event_type="recovery.shared",
        bank_id=batch.bank_id,
        payload=notices.payload("recovery.shared", share),
    )
    await _audit_loans(session, "service:guarantee", [loan], {})
    await repo.insert_deliveries(session=session, rows=[notice])


async def decline_unapproved(
    *, session: AsyncSession, bank: PartnerBank, batch: Batch, reason: str
) -> list[BatchLoan]:
    """The batch is closing: loans the bank has not approved are declined, the SME told, and
    events held for them refused (they can never apply now). The loans declined."""
    loans = [
        loan
        for loan in await repo.loans_of_batch(session=session, batch_id=batch.id)
        if loan.state == LoanState.ALLOCATED
    ]
    if not loans:
        return []
    locked = await repo.lock_loans(session=session, loan_ids={loan.id for loan in loans})
    waiting: dict[uuid.UUID, list[ReceivedEvent]] = {i: [] for i in locked}
    for record in await repo.held_events_of(session=session, loan_ids=set(locked)):
        waiting[record.loan_id].append(record)  # type: ignore[index]
    out: Outbox = []
    declined = []
    for loan in locked.values():
        if loan.state != LoanState.ALLOCATED:
            continue  # approved meanwhile
        loan.state, loan.last_event_at = LoanState.DECLINED.value, utcnow()
        declined.append(loan)
        _to_intake(
            out,
            bank,
            loan,
            "batch.closed",
            f"批次已关闭，银行未审批：{reason}",
            {"reason": reason},
        )
        _release_held(out, bank, batch, loan, waiting[loan.id])
    await _audit_loans(session, "system:batch_closing", declined, {})
    await repo.insert_deliveries(session=session, rows=out)
    return declined
