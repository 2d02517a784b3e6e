"""Errors as RFC 9457 problem details, each with a stable ``type``.

    AppError                      status, problem type slug, Chinese title
    ├── InvalidRequest            400 malformed-request      (bad JSON, unreadable body)
    ├── Unauthenticated           401 unauthenticated        (no/expired/forged token)
    ├── Forbidden                 403 forbidden              (role or tenant not allowed)
    │   ├── ApprovePermissionRequired 403 approve-permission-required
    │   └── FourEyesRequired      403 four-eyes-required     (approver drafted or submitted it)
    ├── NotFound                  404 not-found              (also: another tenant's object)
    ├── Conflict                  409 conflict
    ├── PayloadTooLarge           413 payload-too-large
    ├── UnsupportedMediaType      415 unsupported-media-type
    ├── ValidationFailed          422 validation-error       (with per-field ``errors``)
    ├── ServiceUnavailable        503 service-unavailable
    └── (each service's exceptions.py adds conditions of its own)

A problem ``type`` is a relative URI, ``/problems/<slug>``; clients switch on it, so a
slug never changes meaning once shipped. Handlers are installed by
:func:`install_error_handlers`; an unexpected exception becomes a logged 500 problem
that leaks nothing.
"""

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"

log = structlog.get_logger("errors")


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. enterprise.uscc")
    message: str = Field(description="中文说明")
    message_en: str = Field(description="English explanation")
    code: str = Field(description="Stable machine code of the check that failed")
    line: int | None = Field(None, description="Line in the offending text (expressions)")
    column: int | None = Field(None, description="Column in the offending text (expressions)")


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "内部错误 (internal error)"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    @property
    def type(self) -> str:
        return problem_type(self.slug)

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body = Problem(
            type=self.type,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        ).model_dump(exclude_none=True)
        body.update(self.extra)
        return body


class InvalidRequest(AppError):
    status, slug, title = 400, "malformed-request", "请求无法解析 (malformed request)"


class Unauthenticated(AppError):
    status, slug, title = 401, "unauthenticated", "未认证 (authentication required)"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "无权操作 (forbidden)"


class ApprovePermissionRequired(Forbidden):
    """A decision that needs the ``approve`` permission (bureau approver)."""

    slug, title = "approve-permission-required", "需要审批权限 (approver permission required)"


class FourEyesRequired(Forbidden):
    """The approver drafted or submitted what they are approving."""

    slug = "four-eyes-required"
    title = "审批人必须是起草和提交之外的另一人 (four eyes: approver must differ)"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "资源不存在 (not found)"


class MethodNotAllowed(AppError):
    status, slug, title = 405, "method-not-allowed", "不支持该方法 (method not allowed)"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "状态冲突 (conflict)"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "请求体过大 (payload too large)"


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "不支持的内容类型 (unsupported media type)"


class ValidationFailed(AppError):
    status, slug, title = 422, "validation-error", "输入校验失败 (validation failed)"


class ServiceUnavailable(AppError):
    status, slug, title = 503, "service-unavailable", "服务暂不可用 (service unavailable)"


def problem_response(error: AppError, *, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        error.to_problem(instance),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )


# Chinese wording for pydantic's most common error types; the English original is kept
# alongside in ``message_en``.
_PYDANTIC_MESSAGES_ZH = {
    "missing": "缺少必填字段",
    "string_type": "应为字符串",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为布尔值 (true/false)",
    "bool_parsing": "应为布尔值 (true/false)",
    "date_type": "应为日期 (YYYY-MM-DD)",
    "date_parsing": "应为日期 (YYYY-MM-DD)",
    "date_from_datetime_parsing": "应为日期 (YYYY-MM-DD)",
    "uuid_parsing": "应为 UUID",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "model_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为 JSON 数组",
    "extra_forbidden": "不允许的字段",
    "string_pattern_mismatch": "格式不正确",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def field_errors_from_pydantic(errors: list[dict[str, Any]]) -> list[FieldError]:
    result = []
    for err in errors:
        ctx = err.get("ctx") or {}
        zh_from_validator = ctx.get("message_zh")
        message_en = str(err.get("msg", ""))
        if message_en.startswith("Value error, "):
            message_en = message_en.removeprefix("Value error, ")
        zh = zh_from_validator or _PYDANTIC_MESSAGES_ZH.get(err["type"], message_en)
        if not zh_from_validator and err["type"] in (
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
        ):
            bound = next(iter(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")), None)
            zh = f"{zh}（限值 {bound}）" if bound is not None else zh
        result.append(
            FieldError(
                field=_field_path(tuple(err.get("loc", ()))),
                message=zh,
                message_en=message_en,
                code=ctx.get("code") or err["type"],
            )
        )
    return result


async def _on_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status >= 500:
        log.warning("request.failed", problem=exc.slug, detail=exc.detail)
    return problem_response(exc, instance=request.url.path)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    json_errors = [e for e in errors if e.get("type") == "json_invalid"]
    if json_errors:
        err = json_errors[0]
        position = err["loc"][-1] if err.get("loc") else "?"
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(
            InvalidRequest(
                detail=f"JSON 格式错误，位置 {position}：{reason} "
                f"(malformed JSON at character {position}: {reason})",
                errors=[
                    FieldError(
                        field="body",
                        message=f"JSON 格式错误（位置 {position}）",
                        message_en=f"malformed JSON at character {position}: {reason}",
                        code="json_invalid",
                    )
                ],
            ),
            instance=request.url.path,
        )
    field_errors = field_errors_from_pydantic(errors)
    names = "、".join(dict.fromkeys(e.field for e in field_errors))
    return problem_response(
        ValidationFailed(detail=f"以下字段有误：{names}", errors=field_errors),
        instance=request.url.path,
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    mapped: dict[int, type[AppError]] = {
        400: InvalidRequest,
        401: Unauthenticated,
        403: Forbidden,
        404: NotFound,
        405: MethodNotAllowed,
        409: Conflict,
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
        422: ValidationFailed,
        503: ServiceUnavailable,
    }
    error_class = mapped.get(exc.status_code)
    if error_class is None:
        body = Problem(
            type=problem_type(f"http-{exc.status_code}"),
            title=str(exc.detail),
            status=exc.status_code,
            instance=request.url.path,
        ).model_dump(exclude_none=True)
        return JSONResponse(body, exc.status_code, media_type=PROBLEM_MEDIA_TYPE)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"没有这个地址 (no route for {request.url.path})"
    return problem_response(
        error_class(detail=detail, headers=dict(exc.headers or {})),
        instance=request.url.path,
    )


async def _on_too_deep(request: Request, exc: Exception) -> JSONResponse:
    # A document nested past Python's recursion limit (a JSON body of 100,000 "[") is bad
    # input, whichever parser or walker met it first.
    log.warning("request.too_deep", path=request.url.path)
    return problem_response(
        InvalidRequest(detail="请求内容嵌套过深 (the document is nested too deeply)"),
        instance=request.url.path,
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        # The database dropped the connection (restarted, failed over): nothing was written,
        # the pool is renewed, and the same request will go through — a 503, not a crash.
        log.warning("request.database_disconnected", path=request.url.path)
        error: AppError = ServiceUnavailable(detail="数据库连接中断，未保存任何内容，请重试")
        return problem_response(error, instance=request.url.path)
    log.exception("request.crashed", path=request.url.path)
    return problem_response(AppError(detail="服务器内部错误，已记录"), instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RecursionError, _on_too_deep)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the problems a route can answer with."""
    result: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = result.setdefault(
            error.status,
            {
                "description": error.title,
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        )
        if error.title not in entry["description"]:
            entry["description"] += f"; {error.title}"
    return result
