from typing import Any

from shared.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)


class BankNotFound(NotFound):
    slug, title = "bank-not-found", "合作银行不存在 (partner bank not found)"


class BankExists(Conflict):
    slug, title = "bank-exists", "银行代码已存在 (bank code already registered)"


class OAuthError(Unauthenticated):
    """A refused token request: RFC 6749 §5.2's ``error`` inside the problem document."""

    slug, title = "oauth-invalid-client", "客户端认证失败 (invalid client)"
    status = 401

    def __init__(self, detail: str, *, error: str = "invalid_client", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Basic realm="picidai"'})
        kwargs["extra"] = {"error": error, "error_description": detail}
        super().__init__(detail, **kwargs)


class OAuthBadRequest(OAuthError):
    slug, title = "oauth-invalid-request", "令牌请求无效 (invalid token request)"
    status = 400


class BatchNotFound(NotFound):
    slug, title = "batch-not-found", "批次不存在 (batch not found)"


class BatchStateConflict(Conflict):
    slug, title = "batch-state-conflict", "批次状态不允许此操作 (not allowed in this state)"


class BatchInvalid(ValidationFailed):
    slug, title = "batch-invalid", "批次内容有误 (batch invalid)"


class IntakeUnavailableProblem(ServiceUnavailable):
    slug, title = "intake-unavailable", "贷款申请服务暂不可用 (loan intake unavailable)"


class DeliveryNotFound(NotFound):
    slug, title = "delivery-not-found", "投递记录不存在 (delivery not found)"


class DeliveryStateConflict(Conflict):
    slug, title = "delivery-state-conflict", "该投递不能重发 (delivery cannot be redelivered)"


class SignatureInvalid(Unauthenticated):
    slug, title = "signature-invalid", "回调签名无效 (webhook signature invalid)"


# The refusals of one bank event. Callbacks answer them as problem documents built from the
# stored refusal (the same answer for a repeated webhook-id); these classes document them.
class EventInvalid(ValidationFailed):
    slug, title = "event-invalid", "事件格式不正确 (event invalid)"


class LoanNotFound(NotFound):
    slug, title = "loan-not-found", "没有该贷款 (no such loan for this bank)"


class EventNotApplicable(Conflict):
    slug, title = "event-not-applicable", "事件不能适用于该贷款的当前状态 (can never apply)"


class AmountRefused(ValidationFailed):
    """repayment-exceeds-outstanding, amount-exceeds-approval, … (one slug per check)."""

    slug, title = "repayment-exceeds-outstanding", "金额与台账不符 (amount does not fit the ledger)"


class GuaranteeUnavailableProblem(ServiceUnavailable):
    slug, title = "guarantee-unavailable", "担保服务暂不可用 (guarantee service unavailable)"


class BatchSuspended(Conflict):
    slug, title = "batch-suspended", "批次已暂停，不接受新的批准 (batch suspended)"
