from shared.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed


class NoPolicyInForce(ServiceUnavailable):
    slug, title = "no-policy-in-force", "当前没有生效的担保政策 (no policy in force)"


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
