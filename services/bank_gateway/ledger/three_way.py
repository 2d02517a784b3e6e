"""The three-way reconciliation (三方对账, issue 15): the gateway's ledger against the
guarantee service's guarantees, claims and payments and against the SME's application in
loan_intake, per loan and in total. It changes nothing it reconciles. On demand
(``GET /v1/reconciliation/three-way``, a batch's console page) and, for the whole
portfolio, by the reconciler worker on a schedule or when a clerk asks: those runs are kept
(``three_way_runs``) and the console shows the last. Never commits."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.clients import GuaranteeClient, IntakeClient
from services.bank_gateway.ledger import repository as repo
from services.bank_gateway.ledger import three_way_repository as runs
from services.bank_gateway.ledger.schemas import (
    ThreeWayDifference,
    ThreeWayReport,
    ThreeWayTotals,
)
from services.bank_gateway.ledger.three_way_rules import LedgerLoan, differences, in_force_fen
from services.bank_gateway.models import BatchLoan
from services.bank_gateway.notifications import service as outbox
from shared.clock import utcnow
from shared.contracts.reconciliation import MAX_PER_REQUEST, FundLoanView
from shared.money import from_fen, to_fen


def _ledger(loan: BatchLoan) -> LedgerLoan:
    return LedgerLoan(
        loan_id=loan.id,
        application_id=loan.application_id,
        enterprise_name=loan.enterprise_name,
        state=loan.state,
        outstanding_fen=loan.outstanding_fen,
        compensation_fen=loan.compensation_fen,
        compensation_paid_fen=loan.compensation_paid_fen,
        fund_recovered_fen=loan.fund_recovered_fen,
    )


def _chunks(items: Sequence[LedgerLoan]) -> list[Sequence[LedgerLoan]]:
    return [items[i : i + MAX_PER_REQUEST] for i in range(0, len(items), MAX_PER_REQUEST)]


async def reconcile(
    *,
    session: AsyncSession,
    guarantee: GuaranteeClient,
    intake: IntakeClient,
    batch_id: uuid.UUID | None = None,
) -> ThreeWayReport:
    """Every lent loan (of one batch, or all), compared with the fund and with intake."""
    loans = [_ledger(loan) for loan in await repo.lent_loans_of(session=session, batch_id=batch_id)]
    flying = await outbox.applications_in_flight(session=session)
    found: list[ThreeWayDifference] = []
    totals = dict.fromkeys(ThreeWayTotals.model_fields, 0)
    for chunk in _chunks(loans):
        funds = {
            v.loan_id: v for v in (await guarantee.fund_view([x.loan_id for x in chunk])).items
        }
        statuses = await intake.statuses([x.application_id for x in chunk])
        for loan in chunk:
            fund = funds.get(loan.loan_id)
            _add(totals, loan, fund)
            for d in differences(
                loan,
                fund,
                statuses.get(loan.application_id),
                in_flight=loan.application_id in flying,
            ):
                found.append(ThreeWayDifference(**d.__dict__, cause=d.cause))
    return ThreeWayReport(
        as_of=utcnow(),
        batch_id=batch_id,
        loans_checked=len(loans),
        differences=found,
        in_flight=sum(1 for d in found if d.in_flight),
        totals=ThreeWayTotals(**{k: from_fen(v) for k, v in totals.items()}),
    )


def _add(totals: dict[str, int], loan: LedgerLoan, fund: FundLoanView | None) -> None:
    totals["ledger_outstanding"] += in_force_fen(loan)
    totals["ledger_compensation"] += loan.compensation_fen
    totals["ledger_compensation_paid"] += loan.compensation_paid_fen
    totals["ledger_fund_recovered"] += loan.fund_recovered_fen
    if fund is not None:
        totals["fund_outstanding"] += to_fen(fund.outstanding)
        totals["fund_payout"] += to_fen(fund.payout)
        totals["fund_paid"] += to_fen(fund.paid)
        totals["fund_recovered"] += to_fen(fund.fund_recovered)


@dataclass(frozen=True)
class KeptRun:
    """The last whole-portfolio reconciliation the worker kept, and one on its way."""

    report: ThreeWayReport | None
    requested_by: str | None
    finished_at: datetime | None
    error: str | None
    waiting_since: datetime | None


async def last_run(*, session: AsyncSession) -> KeptRun:
    done, waiting = await runs.latest_runs(session=session)
    if done is None:
        return KeptRun(None, None, None, None, waiting)
    report = ThreeWayReport.model_validate(done["report"]) if done["report"] else None
    return KeptRun(report, done["requested_by"], done["finished_at"], done["error"], waiting)


async def request_run(*, session: AsyncSession, requested_by: str) -> uuid.UUID:
    """Ask the worker for a run of the whole portfolio (one waiting is enough)."""
    return await runs.request_run(session=session, requested_by=requested_by)
