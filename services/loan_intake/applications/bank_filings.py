"""An application a bank files for a loan it approved and lent itself (见贷即保): recorded
like a submission, then assessed at once so the bank has its answer in the same call.

This is orchestration, not a rule: it commits the submission (its own transaction, so the
hand-off worker can see it), runs one hand-off step (the same code the worker runs: one
assessment path for portal and bank alike), and reads the outcome — waiting a little if
another worker took the message. Filing the same reference again is a replay (the
Idempotency-Key mechanism, keyed by bank and reference) and answers with the application
as it stands.
"""

import asyncio
import uuid

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.loan_intake.applications import service, submission
from services.loan_intake.applications.schemas import (
    SUBMISSION_STATUS,
    ApplicationCreate,
    ApplicationPublic,
)
from services.loan_intake.models import ApplicationStatus
from shared.auth import Principal
from shared.contracts.assessment import Attestation
from shared.contracts.filing import BankFiledApplication
from shared.errors import ValidationFailed, field_errors_from_pydantic
from shared.jobs import Worker

# How long the bank's call waits for the assessment when another worker took it.
WAIT_SECONDS, POLL_SECONDS = 10.0, 0.1


async def file(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    filing: BankFiledApplication,
    handoff: Worker,
    request_id: str | None,
) -> ApplicationPublic:
    """The application of the bank's filing, assessed (or still assessing if the guarantee
    service did not answer in time: the bank files the same reference again later)."""
    try:
        payload = ApplicationCreate.model_validate(filing.application)
    except ValidationError as error:
        errors = field_errors_from_pydantic(list(error.errors()))
        raise ValidationFailed("申请信息校验失败", errors=errors) from error
    key = f"bank-filing:{filing.bank_code}:{filing.reference}"
    async with sessionmaker() as session, session.begin():
        submitted = await submission.submit_application(
            session=session,
            principal=principal,
            payload=payload,
            idempotency=submission.IdempotencyKey(key, SUBMISSION_STATUS),
            request_id=request_id,
            attestations=[
                Attestation(bank_code=filing.bank_code, **check.model_dump())
                for check in filing.checks
            ],
        )
    return await _assessed(sessionmaker, principal, submitted.application_id, handoff)


async def _assessed(
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    application_id: uuid.UUID,
    handoff: Worker,
) -> ApplicationPublic:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    stepped = False
    while True:
        async with sessionmaker() as session:
            found = await service.get_application(
                session=session, principal=principal, application_id=application_id
            )
        if found.status != ApplicationStatus.ASSESSING or loop.time() >= deadline:
            return found
        if not stepped:
            await handoff.step()  # assess now, as the worker would
            stepped = True
        else:
            await asyncio.sleep(POLL_SECONDS)
