"""Reference lists in the console (核验名单): the issuer's file previewed — the columns found,
the first rows, every bad row with why — mapped where its headers are unusual, imported as
a draft (all or nothing), read and searched, submitted with the day it counts from and
approved by a second person.

All of it is the guarantee service's API, called with the clerk's own token. Between the
preview and the import the file travels in the page itself (base64 in a hidden field): the
console keeps nothing of its own, and the import is exactly the file that was previewed.
"""

import base64
import binascii
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bank_gateway.console import policies, policy_editor
from services.bank_gateway.console.calls import CallFailed, OnBehalf, refusal_text
from services.bank_gateway.console.pages import back, names, render_page, staff_member, to_login
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, multipart_form, problem_text

list_pages = APIRouter(prefix="/console/reference-lists", include_in_schema=False)

# The largest list file the console takes (it travels base64 in the preview page, within
# the gateway's upload limit); a 10,000-firm list is about 0.6 MB.
MAX_LIST_BYTES = 6 * 1024 * 1024
PAGE = 20
KINDS_ZH = {
    "specialized_new": ("专精特新中小企业名单", "上海市经济和信息化委员会"),
    "little_giant": ("专精特新“小巨人”企业名单", "工业和信息化部"),
    "high_tech": ("高新技术企业名单", "上海市高新技术企业认定管理工作领导小组"),
    "tech_sme": ("科技型中小企业入库名单", "上海市科学技术委员会"),
    "dishonest_debtor": ("失信被执行人名单", "最高人民法院"),
    "phase_out": ("“三高一低”企业淘汰名单", "青浦区经济委员会"),
}
FIELDS_ZH = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "certificate_no": "证书编号",
    "valid_from": "有效期起",
    "valid_to": "有效期至",
}
STATUS_TONES = {"draft": "info", "pending_approval": "warn", "approved": "ok", "rejected": "bad"}
STATUS_ZH = {
    "draft": "草稿",
    "pending_approval": "待审批",
    "approved": "已批准",
    "rejected": "已退回",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "kinds_zh": KINDS_ZH,
        "fields_zh": FIELDS_ZH,
        "status_zh": STATUS_ZH,
        "status_tone": STATUS_TONES,
        "max_mb": MAX_LIST_BYTES // (1024 * 1024),
        "flagged": None,
        "waiting": None,
        **extra,
    }


@list_pages.get("")
async def lists(
    request: Request,
    session: SessionDep,
    page: int = Query(1, ge=1, le=1000),
    kind: str = "",
    status: str = "",
    done: str = "",
    error: str = "",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    wanted = {
        "kind": kind if kind in KINDS_ZH else None,
        "status": status if status in STATUS_ZH else None,
    }
    listed = await calls.get(
        calls.guarantee,
        "/v1/reference-lists",
        offset=(page - 1) * PAGE,
        limit=PAGE,
        **{k: v for k, v in wanted.items() if v},
    )
    people = await names(session, [item["created_by"] for item in listed["items"]])
    flagged = await calls.get(calls.guarantee, "/v1/reference-lists/changes", limit=1)
    waiting = await calls.get(calls.guarantee, "/v1/fact-reviews", status="pending", limit=1)
    return render_page(
        request,
        "reference_lists.html",
        principal,
        **_context(
            listed=listed,
            flagged=flagged,
            waiting=waiting,
            page=page,
            page_size=PAGE,
            kind=wanted["kind"] or "",
            status=wanted["status"] or "",
            people=people,
            form={},
            done=done,
            error=error,
        ),
    )


class _Refused(Exception):
    """The clerk's form cannot be sent on: the message says what to do."""


def _file_of(fields: dict[str, str], upload: Any, content: bytes | None) -> tuple[str, bytes]:
    """(filename, bytes): the file just chosen, or the one the preview carried."""
    if content:
        return upload.filename or "名单", content
    carried = fields.get("content", "")
    if not carried:
        raise _Refused("请选择名单文件（CSV 或 Excel .xlsx）")
    try:
        return fields.get("filename") or "名单", base64.b64decode(carried, validate=True)
    except (binascii.Error, ValueError):
        raise _Refused("文件内容已损坏，请重新选择文件") from None


def _particulars(fields: dict[str, str]) -> dict[str, str]:
    kind = fields.get("kind", "")
    if kind not in KINDS_ZH:
        raise _Refused("请选择名单类别")
    missing = [
        zh
        for key, zh in (("issuer", "发布单位"), ("batch", "批次"), ("title", "名称"))
        if not fields.get(key, "").strip()
    ]
    if missing:
        raise _Refused(f"请填写{'、'.join(missing)}")
    params = {k: fields[k].strip() for k in ("kind", "issuer", "batch", "title")}
    for field in FIELDS_ZH:
        header = fields.get(f"{field}_column", "").strip()
        if header:
            params[f"{field}_column"] = header
    return params


@list_pages.post("/files")
async def import_file(request: Request, session: SessionDep) -> Response:
    """预览 (``action=preview``) or 导入 (``action=import``) the chosen or carried file."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    fields, upload = await multipart_form(request, max_bytes=MAX_LIST_BYTES * 2)
    content = await upload.read() if upload is not None else None
    try:
        if content is not None and len(content) > MAX_LIST_BYTES:
            raise _Refused(f"文件超过 {MAX_LIST_BYTES // (1024 * 1024)} MB，请分批导入")
        filename, body = _file_of(fields, upload, content)
        params = _particulars(fields)
    except _Refused as refused:
        return await _form_again(request, session, principal, fields, str(refused))
    media = XLSX if filename.lower().endswith(".xlsx") or body[:2] == b"PK" else "text/csv"
    calls = OnBehalf(request)
    importing = fields.get("action") == "import"
    try:
        result = await calls.upload(
            calls.guarantee,
            "/v1/reference-lists/files",
            body,
            media,
            filename=filename[:255],
            dry_run="false" if importing else "true",
            **params,
        )
    except CallFailed as failure:
        # Rows refused on import (the preview said so too): the preview again, with why.
        preview = await _preview_quietly(calls, body, media, filename, params)
        return _preview_page(request, principal, fields, filename, body, preview, failure)
    except AppError as failure:
        return await _form_again(request, session, principal, fields, problem_text(failure))
    if importing and result.get("list"):
        made = result["list"]
        said = (
            f"已导入草稿：{made['entries']} 家企业；请核对后提交审批"
            if result["created"]
            else "同一名单已导入过，这是当时的记录（未重复导入）"
        )
        return back(f"reference-lists/{made['id']}", done=said)
    return _preview_page(request, principal, fields, filename, body, result, None)


async def _preview_quietly(
    calls: OnBehalf, body: bytes, media: str, filename: str, params: dict[str, str]
) -> dict[str, Any] | None:
    try:
        return await calls.upload(
            calls.guarantee,
            "/v1/reference-lists/files",
            body,
            media,
            filename=filename[:255],
            dry_run="true",
            **params,
        )
    except AppError:
        return None


def _preview_page(
    request: Request,
    principal: Principal,
    fields: dict[str, str],
    filename: str,
    body: bytes,
    preview: dict[str, Any] | None,
    failure: CallFailed | None,
) -> Response:
    ready = bool(
        preview
        and not preview["bad_rows"]
        and not preview["missing_columns"]
        and preview["rows"] > 0
    )
    return render_page(
        request,
        "reference_list_preview.html",
        principal,
        **_context(
            form=fields,
            filename=filename,
            content=base64.b64encode(body).decode(),
            size_kb=max(1, len(body) // 1024),
            preview=preview,
            ready=ready,
            error=problem_text(failure) if failure else "",
            failure_rows=[m for _, m in failure.field_messages[:50]] if failure else [],
            status_code=422 if failure or not ready else 200,
        ),
    )


async def _form_again(
    request: Request, session: SessionDep, principal: Principal, fields: dict[str, str], why: str
) -> Response:
    """The list page with the clerk's particulars kept and what to do."""
    calls = OnBehalf(request)
    listed = await calls.get(calls.guarantee, "/v1/reference-lists", offset=0, limit=PAGE)
    people = await names(session, [item["created_by"] for item in listed["items"]])
    return render_page(
        request,
        "reference_lists.html",
        principal,
        **_context(
            listed=listed,
            page=1,
            page_size=PAGE,
            kind="",
            status="",
            people=people,
            form=fields,
            done="",
            error=why,
            status_code=422,
        ),
    )


@list_pages.get("/changes")
async def changes(
    request: Request, session: SessionDep, page: int = Query(1, ge=1, le=1000)
) -> Response:
    """名单变动关注: firms with 在保余额 whose standing on the lists changed."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    flagged = await calls.get(
        calls.guarantee, "/v1/reference-lists/changes", offset=(page - 1) * PAGE, limit=PAGE
    )
    return render_page(
        request,
        "listing_changes.html",
        principal,
        **_context(flagged=flagged, page=page, page_size=PAGE),
    )


@list_pages.get("/{list_id}")
async def one_list(
    request: Request,
    session: SessionDep,
    list_id: uuid.UUID,
    q: str = Query("", max_length=100),
    page: int = Query(1, ge=1, le=10000),
    job: uuid.UUID | None = None,
    done: str = "",
    error: str = "",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    try:
        kept = await calls.get(calls.guarantee, f"/v1/reference-lists/{list_id}")
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    found = await calls.get(
        calls.guarantee,
        f"/v1/reference-lists/{list_id}/entries",
        q=q.strip(),
        offset=(page - 1) * PAGE,
        limit=PAGE,
    )
    people = await names(
        session, [kept.get(k) for k in ("created_by", "submitted_by", "decided_by")]
    )
    whatif, changes, figures = await policies.whatif_of(calls, job)
    rules: dict[str, Any] = {}
    if whatif is not None:
        policy = await calls.get(calls.guarantee, f"/v1/policies/{whatif['policy_version_id']}")
        rules = policy["document"]
    today = shanghai_today()
    return render_page(
        request,
        "reference_list.html",
        principal,
        **_context(
            kept=kept,
            found=found,
            q=q.strip(),
            page=page,
            page_size=PAGE,
            people=people,
            today=today.isoformat(),
            year_start=today.replace(month=1, day=1).isoformat(),
            whatif=whatif,
            changes=changes,
            figures=figures,
            decision_zh=policies.DECISION_ZH,
            rule_label=lambda code: policy_editor.rule_label(rules, code),
            done=done,
            error=error,
        ),
    )


@list_pages.post("/{list_id}/{action}")
async def act(request: Request, list_id: uuid.UUID, action: str) -> Response:
    """提交审批 (with its dates), 批准 or 退回 — the guarantee service checks who may."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    calls = OnBehalf(request)
    base, here = f"/v1/reference-lists/{list_id}", f"reference-lists/{list_id}"
    try:
        if action == "submission":
            dates = {"effective_from": form.get("effective_from") or None}
            if form.get("expires_on"):
                dates["expires_on"] = form["expires_on"]
            await calls.post(calls.guarantee, f"{base}/submission", dates)
            return back(here, done="已提交审批：须由另一位有审批权限的工作人员批准")
        if action == "whatif":
            period = {k: form.get(k) or None for k in ("period_from", "period_to")}
            job = await calls.post(calls.guarantee, f"{base}/whatif", period)
            return back(f"{here}?job={job['id']}#whatif", done="模拟已开始")
        if action in ("approval", "rejection"):
            await calls.post(
                calls.guarantee, f"{base}/{action}", {"note": form.get("note") or None}
            )
            said = "已批准：自生效日起用于核验申报事项" if action == "approval" else "已退回"
            return back(here, done=said)
    except AppError as failure:
        return back(here, error=refusal_text(failure))
    return back(here, error=f"未知操作 {action}")
