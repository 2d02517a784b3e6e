from shared.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed


class NoPolicyInForce(ServiceUnavailable):
    slug, title = "no-policy-in-force", "当前没有生效的担保政策 (no policy in force)"


class AssessmentNotFound(NotFound):
    slug, title = "assessment-not-found", "评估记录不存在 (assessment not found)"


class AssessmentConflict(Conflict):
    slug = "assessment-conflict"
    title = "该申请已按不同内容评估过 (application already assessed with different content)"


class PolicyNotFound(NotFound):
    slug, title = "policy-not-found", "政策版本不存在 (policy version not found)"


class PolicyInvalid(ValidationFailed):
    """The document does not validate or an expression does not compile; nothing was saved."""

    slug, title = "policy-invalid", "政策内容有误，未保存 (policy invalid, not saved)"


class PolicyNotEditable(Conflict):
    slug = "policy-not-editable"
    title = "政策版本已提交，不能再修改 (a submitted version is immutable)"


class PolicyStateConflict(Conflict):
    slug, title = "policy-state-conflict", "政策版本状态不允许此操作 (not allowed in this state)"


class EffectiveDateInvalid(ValidationFailed):
    slug, title = "effective-date-invalid", "生效日期无效 (effective date invalid)"


class WhatIfNotFound(NotFound):
    slug, title = "whatif-not-found", "模拟任务不存在 (what-if job not found)"


class WhatIfPeriodInvalid(ValidationFailed):
    slug, title = "whatif-period-invalid", "模拟期间无效 (what-if period invalid)"


class AssessmentNotReplayable(Conflict):
    slug = "assessment-not-replayable"
    title = "该评估所用的政策版本为旧格式，无法重算 (made under a pre-expression policy format)"


class GuaranteeNotFound(NotFound):
    slug, title = "guarantee-not-found", "担保不存在 (guarantee not found)"


class GuaranteeConflict(Conflict):
    slug, title = "guarantee-conflict", "该贷款已按不同内容备案 (loan filed with other facts)"


class NotAssessedEligible(Conflict):
    slug, title = "not-assessed-eligible", "该申请没有可担保的评估 (no guaranteeable assessment)"


class ClaimNotFound(NotFound):
    slug, title = "claim-not-found", "代偿记录不存在 (claim not found)"


class ClaimConflict(Conflict):
    slug, title = "claim-conflict", "该贷款已按不同内容申请代偿 (claim filed with other facts)"


class ClaimInvalid(ValidationFailed):
    slug, title = "claim-invalid", "代偿申请与担保不符 (claim does not fit the guarantee)"


class RecoveryConflict(Conflict):
    slug, title = "recovery-conflict", "该追偿已按不同内容登记 (recovery recorded with other facts)"
