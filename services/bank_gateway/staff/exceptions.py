from shared.errors import AppError


class StaffSignInFailed(AppError):
    status, slug = 401, "staff-sign-in-failed"
    title = "用户名或密码不正确 (wrong username or password)"
