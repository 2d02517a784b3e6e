import uuid
from datetime import date
from typing import Annotated, Literal

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from services.guarantee import claims as claim_service
from services.guarantee import guarantees as guarantee_service
from services.guarantee import lifecycle, service, whatif
from services.guarantee.deps import (
    AssessorDep,
    BureauDep,
    GatewayCallerDep,
    IntakeCallerDep,
    SessionDep,
    StaffDep,
)
from services.guarantee.exceptions import (
    AssessmentConflict,
    AssessmentNotFound,
    AssessmentNotReplayable,
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    EffectiveDateInvalid,
    GuaranteeConflict,
    GuaranteeNotFound,
    NoPolicyInForce,
    NotAssessedEligible,
    PolicyInvalid,
    PolicyNotEditable,
    PolicyNotFound,
    PolicyStateConflict,
    RecoveryConflict,
    WhatIfNotFound,
    WhatIfPeriodInvalid,
)
from services.guarantee.models import (
    AssessmentPublic,
    AssessmentReplay,
    AuditPage,
    ClaimPage,
    ClaimPublic,
    GuaranteePublic,
    PolicyCheck,
    PolicyCheckResult,
    PolicyCreate,
    PolicyDecision,
    PolicyDiff,
    PolicyDocumentUpdate,
    PolicyStatus,
    PolicySubmission,
    PolicyVersionPage,
    PolicyVersionPublic,
    WhatIfChangePage,
    WhatIfCreate,
    WhatIfJobPublic,
)
from shared.clock import shanghai_today
from shared.contracts.assessment import (
    AssessmentBatch,
    AssessmentBatchResult,
    AssessmentRequest,
    AssessmentResult,
)
from shared.contracts.claims import (
    ClaimDecision,
    ClaimOutcome,
    ClaimRequest,
    RecoveryReport,
    RecoveryShare,
)
from shared.contracts.guarantee import FeeSubsidyReport, GuaranteeFiling
from shared.errors import (
    ApprovePermissionRequired,
    FieldError,
    Forbidden,
    FourEyesRequired,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)

assessments = APIRouter(prefix="/v1/assessments", tags=["assessments"])
policies = APIRouter(prefix="/v1/policies", tags=["policies"])
whatifs = APIRouter(prefix="/v1/whatif", tags=["what-if"])
audit = APIRouter(prefix="/v1/audit", tags=["audit"])
guarantees = APIRouter(prefix="/v1/guarantees", tags=["guarantees"])
claims = APIRouter(prefix="/v1/claims", tags=["claims"])

_AUTH = (Unauthenticated, Forbidden)
_BODY = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


@assessments.post(
    "",
    status_code=201,
    response_model=AssessmentResult,
    responses={
        200: {"description": "Already assessed: the first assessment", "model": AssessmentResult},
        **problem_responses(*_AUTH, *_BODY, AssessmentConflict, NoPolicyInForce),
    },
)
async def assess(
    request: AssessmentRequest, session: SessionDep, principal: AssessorDep, response: Response
) -> AssessmentResult:
    """Assess one application under the policy in force on its as-of date."""
    result, created = await service.assess_one(
        session=session, principal=principal, request=request, request_id=correlation_id.get()
    )
    if not created:
        response.status_code = 200
    return result


@assessments.post(
    "/batch",
    response_model=AssessmentBatchResult,
    responses=problem_responses(*_AUTH, *_BODY),
)
async def assess_batch(
    batch: AssessmentBatch, session: SessionDep, principal: IntakeCallerDep
) -> AssessmentBatchResult:
    """Assess up to 500 applications at once; each gets a result or a problem of its own."""
    outcomes = await service.assess_batch(session=session, principal=principal, items=batch.items)
    return AssessmentBatchResult(outcomes=outcomes)


@assessments.get(
    "/{assessment_id}",
    response_model=AssessmentPublic,
    responses=problem_responses(*_AUTH, AssessmentNotFound, ValidationFailed),
)
async def get_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> AssessmentPublic:
    """One assessment with its input snapshot, policy hash and full rule trace."""
    return await service.get_assessment(session=session, assessment_id=assessment_id)


@assessments.get(
    "/{assessment_id}/replay",
    response_model=AssessmentReplay,
    responses=problem_responses(
        *_AUTH, AssessmentNotFound, AssessmentNotReplayable, ValidationFailed
    ),
)
async def replay_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> AssessmentReplay:
    """Assess the stored input again under its version and date; say whether all agrees."""
    return await service.replay(session=session, assessment_id=assessment_id)


# --- policies ---------------------------------------------------------------------------------


@policies.get("", response_model=PolicyVersionPage, responses=problem_responses(*_AUTH))
async def list_policies(
    session: SessionDep,
    principal: StaffDep,
    status: PolicyStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PolicyVersionPage:
    """Policy versions, newest first, without their documents."""
    return await lifecycle.list_versions(
        session=session,
        status=status.value if status else None,
        offset=offset,
        limit=limit,
        today=shanghai_today(),
    )


@policies.get(
    "/in-force",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*_AUTH, NoPolicyInForce, ValidationFailed),
)
async def policy_in_force(
    session: SessionDep,
    principal: StaffDep,
    on: Annotated[date | None, Query(description="Date (Asia/Shanghai); today if omitted")] = None,
) -> PolicyVersionPublic:
    """The policy version in force on a date."""
    day = on or shanghai_today()
    version = await lifecycle.in_force(session=session, on=day)
    if version is None:
        raise NoPolicyInForce(f"{day} 没有生效的担保政策")
    return await lifecycle.public(session, version, shanghai_today())


@policies.post(
    "",
    status_code=201,
    response_model=PolicyVersionPublic,
    responses=problem_responses(*_AUTH, *_BODY, PolicyInvalid, PolicyNotFound),
)
async def create_policy(
    payload: PolicyCreate, session: SessionDep, principal: BureauDep, response: Response
) -> PolicyVersionPublic:
    """A new draft: copied from a version, or imported as JSON (`document`) or YAML (`yaml`)."""
    created = await lifecycle.create_draft(
        session=session, principal=principal, payload=payload, today=shanghai_today()
    )
    response.headers["Location"] = f"/v1/policies/{created.id}"
    return created


@policies.post(
    "/check",
    response_model=PolicyCheckResult,
    responses=problem_responses(*_AUTH, *_BODY, PolicyInvalid),
)
async def check_policy(payload: PolicyCheck, principal: BureauDep) -> PolicyCheckResult:
    """Validate and compile a document without saving it: every problem, with positions."""
    return lifecycle.check(payload.document, payload.yaml)


@policies.get(
    "/{policy_id}",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*_AUTH, PolicyNotFound, ValidationFailed),
)
async def get_policy(
    policy_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> PolicyVersionPublic:
    """One version with its document."""
    return await lifecycle.get(session=session, policy_id=policy_id, today=shanghai_today())


@policies.put(
    "/{policy_id}/document",
    response_model=PolicyVersionPublic,
    responses=problem_responses(*_AUTH, *_BODY, PolicyInvalid, PolicyNotFound, PolicyNotEditable),
)
async def update_policy(
    policy_id: uuid.UUID, payload: PolicyDocumentUpdate, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Replace a draft's document. Refused (409) once the version is submitted."""
    return await lifecycle.update_draft(
        session=session,
        principal=principal,
        policy_id=policy_id,
        payload=payload,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/submission",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *_AUTH, *_BODY, PolicyNotFound, PolicyStateConflict, EffectiveDateInvalid
    ),
)
async def submit_policy(
    policy_id: uuid.UUID, payload: PolicySubmission, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Submit a draft for approval, with the date it is to take effect."""
    return await lifecycle.submit(
        session=session,
        principal=principal,
        policy_id=policy_id,
        effective_from=payload.effective_from,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/approval",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *_AUTH,
        *_BODY,
        PolicyNotFound,
        PolicyStateConflict,
        EffectiveDateInvalid,
        FourEyesRequired,
        ApprovePermissionRequired,
    ),
)
async def approve_policy(
    policy_id: uuid.UUID, payload: PolicyDecision, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Approve a submitted version: a second person with the approver permission (four eyes)."""
    return await lifecycle.approve(
        session=session,
        principal=principal,
        policy_id=policy_id,
        note=payload.note,
        today=shanghai_today(),
    )


@policies.post(
    "/{policy_id}/rejection",
    response_model=PolicyVersionPublic,
    responses=problem_responses(
        *_AUTH, *_BODY, PolicyNotFound, PolicyStateConflict, ApprovePermissionRequired
    ),
)
async def reject_policy(
    policy_id: uuid.UUID, payload: PolicyDecision, session: SessionDep, principal: BureauDep
) -> PolicyVersionPublic:
    """Send a submitted version back, with the reason (`note`)."""
    return await lifecycle.reject(
        session=session,
        principal=principal,
        policy_id=policy_id,
        note=payload.note,
        today=shanghai_today(),
    )


@policies.get(
    "/{policy_id}/export",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"application/yaml": {}, "application/json": {}}},
        **problem_responses(*_AUTH, PolicyNotFound, ValidationFailed),
    },
)
async def export_policy(
    policy_id: uuid.UUID,
    session: SessionDep,
    principal: StaffDep,
    format: Literal["yaml", "json"] = "yaml",
) -> Response:
    """The document as YAML or JSON, ready to import elsewhere."""
    version = await lifecycle.get_version(session=session, policy_id=policy_id)
    media_type = "application/yaml" if format == "yaml" else "application/json"
    return Response(
        lifecycle.export(version, format),
        media_type=f"{media_type}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="policy-v{version.version}.{format}"'
        },
    )


@policies.get(
    "/{policy_id}/diff",
    response_model=PolicyDiff,
    responses=problem_responses(*_AUTH, PolicyNotFound, ValidationFailed),
)
async def diff_policy(
    policy_id: uuid.UUID,
    session: SessionDep,
    principal: StaffDep,
    against: Annotated[
        uuid.UUID | None,
        Query(description="The version to compare with; the one it was drafted from if omitted"),
    ] = None,
) -> PolicyDiff:
    """What changed from another version (or the version it was drafted from) to this one."""
    if against is None:
        version = await lifecycle.get_version(session=session, policy_id=policy_id)
        against = version.based_on_id or version.id
    return await lifecycle.diff(session=session, from_id=against, to_id=policy_id)


@policies.post(
    "/{policy_id}/whatif",
    status_code=202,
    response_model=WhatIfJobPublic,
    responses=problem_responses(*_AUTH, *_BODY, PolicyNotFound, WhatIfPeriodInvalid),
)
async def request_whatif(
    policy_id: uuid.UUID,
    payload: WhatIfCreate,
    session: SessionDep,
    principal: BureauDep,
    response: Response,
) -> WhatIfJobPublic:
    """Replay the stored assessments of a period under this version, as a job to poll."""
    job = await whatif.request_whatif(
        session=session, principal=principal, policy_id=policy_id, payload=payload
    )
    response.headers["Location"] = f"/v1/whatif/{job.id}"
    return job


@whatifs.get(
    "/{job_id}",
    response_model=WhatIfJobPublic,
    responses=problem_responses(*_AUTH, WhatIfNotFound, ValidationFailed),
)
async def get_whatif(
    job_id: uuid.UUID, session: SessionDep, principal: BureauDep
) -> WhatIfJobPublic:
    """Progress (percent) while running; the before/after summary when done."""
    return await whatif.get_job(session=session, job_id=job_id)


@whatifs.get(
    "/{job_id}/changes",
    response_model=WhatIfChangePage,
    responses=problem_responses(*_AUTH, WhatIfNotFound, ValidationFailed),
)
async def list_whatif_changes(
    job_id: uuid.UUID,
    session: SessionDep,
    principal: BureauDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> WhatIfChangePage:
    """The applications whose decision, score or terms would change, with the rules why."""
    return await whatif.list_changes(session=session, job_id=job_id, offset=offset, limit=limit)


@audit.get("", response_model=AuditPage, responses=problem_responses(*_AUTH, ValidationFailed))
async def audit_log(
    session: SessionDep,
    principal: BureauDep,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> AuditPage:
    """Who changed what and when, newest first; optionally for one policy version or job."""
    return await lifecycle.audit_log(
        session=session, entity_id=entity_id, offset=offset, limit=limit
    )


@guarantees.post(
    "",
    status_code=201,
    response_model=GuaranteePublic,
    responses={
        200: {"description": "Filed before: the guarantee issued then", "model": GuaranteePublic},
        **problem_responses(*_AUTH, *_BODY, GuaranteeConflict, NotAssessedEligible),
    },
)
async def file_loan(
    filing: GuaranteeFiling, session: SessionDep, principal: GatewayCallerDep, response: Response
) -> GuaranteePublic:
    """备案: the bank gateway files a disbursed loan; the guarantee is issued with the terms
    frozen from the assessment, and its fee schedule and subsidy."""
    issued, created = await guarantee_service.issue(session=session, filing=filing)
    if not created:
        response.status_code = 200
    return issued


Month = Annotated[
    str, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 2000-01 to 2099-12")
]


@guarantees.get(
    "/subsidies",
    response_model=FeeSubsidyReport,
    responses=problem_responses(*_AUTH, ValidationFailed),
)
async def fee_subsidies(
    session: SessionDep, principal: StaffDep, month_from: Month, month_to: Month
) -> FeeSubsidyReport:
    """Guarantee fees and the district's fee subsidy falling due per month and bank."""
    if month_to < month_from:
        raise ValidationFailed(
            "结束月份不能早于开始月份",
            errors=[
                FieldError(
                    field="month_to",
                    message="结束月份不能早于开始月份",
                    message_en="month_to precedes month_from",
                    code="months_reversed",
                )
            ],
        )
    return await guarantee_service.fee_subsidies(
        session=session, month_from=month_from, month_to=month_to
    )


@guarantees.get(
    "/{loan_id}",
    response_model=GuaranteePublic,
    responses=problem_responses(*_AUTH, GuaranteeNotFound, ValidationFailed),
)
async def get_guarantee(
    loan_id: uuid.UUID, session: SessionDep, principal: StaffDep
) -> GuaranteePublic:
    """The guarantee of a loan (by the gateway's loan id): frozen terms and fee schedule."""
    return await guarantee_service.get(session=session, loan_id=loan_id)


@claims.post(
    "",
    status_code=201,
    response_model=ClaimDecision,
    responses={
        200: {"description": "Filed before: the decision made then", "model": ClaimDecision},
        **problem_responses(*_AUTH, *_BODY, GuaranteeNotFound, ClaimConflict, ClaimInvalid),
    },
)
async def file_claim(
    request: ClaimRequest, session: SessionDep, principal: GatewayCallerDep, response: Response
) -> ClaimDecision:
    """代偿: the bank gateway files a defaulted loan's claim; it is decided at once —
    coverage × (principal + interest, capped by policy), never past the batch's ceiling."""
    decision, created = await claim_service.decide(session=session, request=request)
    if not created:
        response.status_code = 200
    return decision


@claims.post(
    "/{loan_id}/recoveries",
    status_code=201,
    response_model=RecoveryShare,
    responses={
        200: {"description": "Recorded before: the split made then", "model": RecoveryShare},
        **problem_responses(*_AUTH, *_BODY, ClaimNotFound, RecoveryConflict),
    },
)
async def record_recovery(
    loan_id: uuid.UUID,
    report: RecoveryReport,
    session: SessionDep,
    principal: GatewayCallerDep,
    response: Response,
) -> RecoveryShare:
    """A recovery after a payout, split pro rata between the fund and the bank."""
    share, created = await claim_service.record_recovery(
        session=session, loan_id=loan_id, report=report
    )
    if not created:
        response.status_code = 200
    return share


@claims.get("", response_model=ClaimPage, responses=problem_responses(*_AUTH, ValidationFailed))
async def list_claims(
    session: SessionDep,
    principal: StaffDep,
    batch_id: uuid.UUID | None = None,
    outcome: ClaimOutcome | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ClaimPage:
    """Claims decided, newest first; by batch or outcome (paid, partially_paid, refused)."""
    return await claim_service.list_claims(
        session=session, batch_id=batch_id, outcome=outcome, offset=offset, limit=limit
    )


@claims.get(
    "/{loan_id}",
    response_model=ClaimPublic,
    responses=problem_responses(*_AUTH, ClaimNotFound, ValidationFailed),
)
async def get_claim(loan_id: uuid.UUID, session: SessionDep, principal: StaffDep) -> ClaimPublic:
    """A loan's claim: the decision with its reasons, and the recoveries split since."""
    return await claim_service.get(session=session, loan_id=loan_id)
