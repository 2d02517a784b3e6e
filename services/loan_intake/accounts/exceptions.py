from shared.errors import AppError, Conflict


class AccountExists(Conflict):
    slug, title = "account-limit", "该企业的账号已达上限 (too many accounts for this firm)"


class VerificationMismatch(AppError):
    status, slug = 403, "verification-mismatch"
    title = "核验的企业与账号不一致 (verified firm differs from the account)"


class VerificationFailed(AppError):
    status, slug = 502, "verification-failed"
    title = "企业身份核验未完成 (identity verification failed)"


class SignInFailed(AppError):
    status, slug = 401, "sign-in-failed"
    title = "统一社会信用代码或密码不正确 (wrong code or password)"


class ResetFailed(AppError):
    status, slug = 400, "password-reset-failed"
    title = "验证码不正确或已过期"
