"""Fiscal periods and their statements (结算期与对账单), for the finance bureau: the list,
a period's statement, closing it, and recording the subsidies paid out."""

from typing import Annotated

from fastapi import APIRouter, Path

from services.bank_gateway.clients import GuaranteeUnavailable
from services.bank_gateway.deps import BureauDep, GuaranteeDep, SessionDep
from services.bank_gateway.periods import service, statements
from services.bank_gateway.periods.calendar import KEY_PATTERN
from services.bank_gateway.periods.exceptions import (
    PayoutInvalid,
    PeriodNotClosable,
    PeriodNotClosed,
    PeriodNotFound,
)
from services.bank_gateway.periods.schemas import (
    PayoutCreate,
    PayoutResult,
    PeriodList,
    Statement,
)
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS
from shared.auth import ApprovePermissionRequired
from shared.clock import shanghai_today
from shared.errors import ServiceUnavailable, problem_responses

periods = APIRouter(prefix="/v1/periods", tags=["fiscal periods"])
Key = Annotated[str, Path(pattern=KEY_PATTERN, description="2026-11 (a month) or 2026-Q3")]
_FUND = "结算所需的担保基金数据暂不可用，请稍后再试"


@periods.get("", response_model=PeriodList, responses=problem_responses(*AUTH_PROBLEMS))
async def list_periods(
    session: SessionDep, principal: BureauDep, guarantee: GuaranteeDep
) -> PeriodList:
    """Closed periods, then open ones up to today's (monthly or quarterly, as the policy in
    force says)."""
    try:
        items, _ = await service.summaries(session, guarantee, shanghai_today())
    except GuaranteeUnavailable as error:
        raise ServiceUnavailable(f"{_FUND}（{error}）") from error
    return PeriodList(items=items)


@periods.get(
    "/{key}",
    response_model=Statement,
    responses=problem_responses(*AUTH_PROBLEMS, PeriodNotFound, ServiceUnavailable),
)
async def period_statement(
    key: Key, session: SessionDep, principal: BureauDep, guarantee: GuaranteeDep
) -> Statement:
    """The period's statement per bank and per firm (拨付清单) with its adjustments: frozen
    once closed; for the next period to close, what closing it now would freeze."""
    try:
        return await statements.statement(
            session=session, guarantee=guarantee, key=key, today=shanghai_today()
        )
    except GuaranteeUnavailable as error:
        raise ServiceUnavailable(f"{_FUND}（{error}）") from error


@periods.post(
    "/{key}/closing",
    response_model=Statement,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        ApprovePermissionRequired,
        PeriodNotFound,
        PeriodNotClosable,
        ServiceUnavailable,
    ),
)
async def close_period(
    key: Key, session: SessionDep, principal: BureauDep, guarantee: GuaranteeDep
) -> Statement:
    """关账 (a bureau approver): the oldest open period, once ended, is frozen; what late
    events changed in earlier closed periods is booked in it as adjustments naming them."""
    today = shanghai_today()
    try:
        await service.close(
            session=session, guarantee=guarantee, principal=principal, key=key, today=today
        )
        return await statements.statement(
            session=session, guarantee=guarantee, key=key, today=today
        )
    except GuaranteeUnavailable as error:
        raise ServiceUnavailable(f"{_FUND}（{error}）") from error


@periods.post(
    "/{key}/payouts",
    response_model=PayoutResult,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, PeriodNotClosed, PayoutInvalid),
)
async def record_payout(
    key: Key, body: PayoutCreate, session: SessionDep, principal: BureauDep
) -> PayoutResult:
    """拨付: the bureau paid firms their subsidies of a closed period under one voucher (all
    firms not yet paid, or those named); each SME sees what it received."""
    return await statements.pay(
        session=session, principal=principal, key=key, body=body, today=shanghai_today()
    )
