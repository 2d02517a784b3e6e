from shared.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed


class BatchNotFound(NotFound):
    slug, title = "batch-not-found", "批次不存在 (batch not found)"


class BatchStateConflict(Conflict):
    slug, title = "batch-state-conflict", "批次状态不允许此操作 (not allowed in this state)"


class BatchInvalid(ValidationFailed):
    slug, title = "batch-invalid", "批次内容有误 (batch invalid)"


class IntakeUnavailableProblem(ServiceUnavailable):
    slug, title = "intake-unavailable", "贷款申请服务暂不可用 (loan intake unavailable)"


class GuaranteeUnavailableProblem(ServiceUnavailable):
    slug, title = "guarantee-unavailable", "担保服务暂不可用 (guarantee service unavailable)"
