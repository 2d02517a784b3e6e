from shared.errors import AppError, Conflict


class AccountExists(Conflict):
    slug, title = "account-exists", "该统一社会信用代码已注册 (already registered)"


class SignInFailed(AppError):
    status, slug = 401, "sign-in-failed"
    title = "统一社会信用代码或密码不正确 (wrong code or password)"
