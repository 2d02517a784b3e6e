from shared.contracts.loan_status import APPLICATION_NOT_FOUND, TRANSITION_NOT_ALLOWED
from shared.errors import AppError, Conflict, Forbidden, NotFound


class ApplicationNotFound(NotFound):
    slug, title = APPLICATION_NOT_FOUND, "申请不存在 (application not found)"


class NotYourEnterprise(Forbidden):
    slug, title = "enterprise-not-yours", "只能以本企业名义申请 (not your enterprise)"


class IdempotencyKeyReused(AppError):
    status, slug = 422, "idempotency-key-reused"
    title = "幂等键已用于另一请求 (Idempotency-Key reused with a different body)"


class InvalidIdempotencyKey(AppError):
    status, slug = 400, "invalid-idempotency-key"
    title = "幂等键格式不正确 (invalid Idempotency-Key)"


class TransitionNotAllowed(Conflict):
    slug, title = TRANSITION_NOT_ALLOWED, "当前状态不允许此操作 (not allowed in this status)"
