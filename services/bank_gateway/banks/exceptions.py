from typing import Any

from shared.errors import Conflict, NotFound, Unauthenticated


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


class SignatureInvalid(Unauthenticated):
    slug, title = "signature-invalid", "回调签名无效 (webhook signature invalid)"
