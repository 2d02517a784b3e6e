from shared.errors import AppError


class StaffSignInFailed(AppError):
    status, slug = 401, "staff-sign-in-failed"
    title = "用户名或密码不正确 (wrong username or password)"


class StaffNotFound(AppError):
    status, slug = 404, "staff-not-found"
    title = "未找到该工作人员 (staff member not found)"
