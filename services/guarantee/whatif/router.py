"""What-if: replay a period's stored assessments under a policy version, as a job to poll."""

import uuid

from fastapi import APIRouter, Response

from services.guarantee.deps import BureauDep, SessionDep
from services.guarantee.facts.exceptions import ListNotFound, ListStateConflict
from services.guarantee.policies.exceptions import NoPolicyInForce, PolicyNotFound
from services.guarantee.whatif import service
from services.guarantee.whatif.exceptions import WhatIfNotFound, WhatIfPeriodInvalid
from services.guarantee.whatif.schemas import WhatIfChangePage, WhatIfCreate, WhatIfJobPublic
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS, Limit, Offset
from shared.clock import shanghai_today
from shared.errors import (
    ValidationFailed,
    problem_responses,
)

whatif_requests = APIRouter(prefix="/v1/policies", tags=["what-if"])
list_whatif_requests = APIRouter(prefix="/v1/reference-lists", tags=["what-if"])
whatifs = APIRouter(prefix="/v1/whatif", tags=["what-if"])


@whatif_requests.post(
    "/{policy_id}/whatif",
    status_code=202,
    response_model=WhatIfJobPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS, *BODY_PROBLEMS, PolicyNotFound, WhatIfPeriodInvalid
    ),
)
async def request_whatif(
    policy_id: uuid.UUID,
    payload: WhatIfCreate,
    session: SessionDep,
    principal: BureauDep,
    response: Response,
) -> WhatIfJobPublic:
    """Replay the stored assessments of a period under this version, as a job to poll."""
    job = await service.request_whatif(
        session=session, principal=principal, policy_id=policy_id, payload=payload
    )
    response.headers["Location"] = f"/v1/whatif/{job.id}"
    return job


@list_whatif_requests.post(
    "/{list_id}/whatif",
    status_code=202,
    response_model=WhatIfJobPublic,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        *BODY_PROBLEMS,
        ListNotFound,
        ListStateConflict,
        NoPolicyInForce,
        WhatIfPeriodInvalid,
    ),
)
async def request_list_whatif(
    list_id: uuid.UUID,
    payload: WhatIfCreate,
    session: SessionDep,
    principal: BureauDep,
    response: Response,
) -> WhatIfJobPublic:
    """Who would change were this list version in force (replacing its series' earlier one)
    when they applied: the period's assessments judged under today's policy with the lists
    they went by, and again with this one — before it is approved or takes effect."""
    job = await service.request_list_whatif(
        session=session,
        principal=principal,
        list_id=list_id,
        payload=payload,
        today=shanghai_today(),
    )
    response.headers["Location"] = f"/v1/whatif/{job.id}"
    return job


@whatifs.get(
    "/{job_id}",
    response_model=WhatIfJobPublic,
    responses=problem_responses(*AUTH_PROBLEMS, WhatIfNotFound, ValidationFailed),
)
async def get_whatif(
    job_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> WhatIfJobPublic:
    """Progress (percent) while running; the before/after summary when done."""
    return await service.get_job(session=session, job_id=job_id)


@whatifs.get(
    "/{job_id}/changes",
    response_model=WhatIfChangePage,
    responses=problem_responses(*AUTH_PROBLEMS, WhatIfNotFound, ValidationFailed),
)
async def list_whatif_changes(
    job_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> WhatIfChangePage:
    """The applications whose decision, score or terms would change, with the rules why."""
    return await service.list_changes(session=session, job_id=job_id, offset=offset, limit=limit)
