"""Policy pages of the console: versions, a readable diff, what-if runs, four-eyes approval.

Everything is the guarantee service's API, called with the signed-in person's token: it
checks who may edit, submit and approve (drafter ≠ approver), and audits it.
"""

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from services.bank_gateway.console import charts, policy_editor
from services.bank_gateway.console.calls import CallFailed, OnBehalf
from services.bank_gateway.console.pages import back, names, render_page, staff_member, to_login
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.db import SessionDep
from shared.errors import AppError
from shared.web import form_data, problem_text

policy_pages = APIRouter(prefix="/console/policies", include_in_schema=False)

DECISION_ZH = {"eligible": "符合条件", "referred": "转人工复核", "ineligible": "不符合条件"}
CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "修改"}


@policy_pages.get("")
async def versions(
    request: Request, session: SessionDep, page: int = Query(1, ge=1, le=1000)
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    calls = OnBehalf(request)
    listed = await calls.get(calls.guarantee, "/v1/policies", offset=(page - 1) * 20, limit=20)
    people = await names(session, [p["created_by"] for p in listed["items"]])
    return render_page(request, "policies.html", principal, listed=listed, page=page, people=people)


@policy_pages.get("/{policy_id}")
async def version(
    request: Request,
    session: SessionDep,
    policy_id: uuid.UUID,
    job: uuid.UUID | None = None,
    done: str = "",
    error: str = "",
) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    return await _version_page(
        request, session, principal, policy_id, job=job, done=done, error=error
    )


async def _version_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    policy_id: uuid.UUID,
    *,
    job: uuid.UUID | None = None,
    done: str = "",
    error: str = "",
    edits: dict[str, str] | None = None,
    edit_errors: dict[str, str] | None = None,
    yaml_text: str | None = None,
) -> Response:
    """The version's page; after a refused save, with the clerk's edits and what is wrong."""
    calls = OnBehalf(request)
    try:
        policy = await calls.get(calls.guarantee, f"/v1/policies/{policy_id}")
    except AppError as failure:
        return render_page(
            request, "message.html", principal, message=problem_text(failure), status_code=404
        )
    diff = None
    try:
        diff = await calls.get(calls.guarantee, f"/v1/policies/{policy_id}/diff")
    except AppError:
        diff = None  # the first version has nothing to compare with
    if yaml_text is None and policy["status"] == "draft":
        yaml_text = await calls.text(
            calls.guarantee, f"/v1/policies/{policy_id}/export", format="yaml"
        )
    whatif, changes, figures = await whatif_of(calls, job)
    today = shanghai_today()
    document = policy["document"]
    return render_page(
        request,
        "policy.html",
        principal,
        people=await names(
            session, [policy.get(k) for k in ("created_by", "submitted_by", "decided_by")]
        ),
        policy=policy,
        diff=diff,
        yaml_text=yaml_text or "",
        editor_sections=policy_editor.sections(document),
        edits=edits or {},
        edit_errors=edit_errors or {},
        label=lambda path: policy_editor.label_of(document, path),
        rule_label=lambda code: policy_editor.rule_label(document, code),
        whatif=whatif,
        changes=changes,
        figures=figures,
        decision_zh=DECISION_ZH,
        change_zh=CHANGE_ZH,
        today=today.isoformat(),
        year_start=today.replace(month=1, day=1).isoformat(),
        done=done,
        error=error,
        status_code=400 if edit_errors else 200,
    )


async def whatif_of(calls: OnBehalf, job: uuid.UUID | None) -> tuple[Any, Any, Any]:
    if job is None:
        return None, None, None
    whatif = await calls.get(calls.guarantee, f"/v1/whatif/{job}")
    summary = whatif.get("summary") or {}
    if whatif["status"] == "succeeded" and summary.get("total"):
        changes = await calls.get(calls.guarantee, f"/v1/whatif/{job}/changes", limit=20)
        return whatif, changes, _whatif_charts(summary)
    return whatif, None, None


@policy_pages.post("/{policy_id}/structured")
async def save_structured(request: Request, session: SessionDep, policy_id: uuid.UUID) -> Response:
    """The structured editor's save: refused edits are shown again, never thrown away."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    calls = OnBehalf(request)
    try:
        policy = await calls.get(calls.guarantee, f"/v1/policies/{policy_id}")
    except AppError as failure:
        return back(f"policies/{policy_id}", error=problem_text(failure))
    document, errors = policy_editor.apply(policy["document"], form)
    if not errors:
        try:
            body = {"document": document, "note": form.get("note") or None}
            await calls.put(calls.guarantee, f"/v1/policies/{policy_id}/document", body)
            return back(f"policies/{policy_id}", done="草稿已保存")
        except CallFailed as failure:
            errors = _said_by_label(document, failure)
        except AppError as failure:
            errors = {"_form": problem_text(failure)}
    return await _version_page(
        request,
        session,
        principal,
        policy_id,
        error="草稿未保存，请按下列提示修改（所填内容已保留）",
        edits=form,
        edit_errors=errors,
    )


@policy_pages.post("/{policy_id}/check")
async def check(request: Request, policy_id: uuid.UUID) -> Response:
    """As the clerk types: the structured form checked by the guarantee service, nothing
    saved; each problem named by its field's label."""
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    calls = OnBehalf(request)
    try:
        policy = await calls.get(calls.guarantee, f"/v1/policies/{policy_id}")
        document, errors = policy_editor.apply(policy["document"], form)
        if not errors:
            checked = await calls.post(
                calls.guarantee, "/v1/policies/check", {"document": document}
            )
            errors = {
                e["field"]: f"{policy_editor.label_of(document, e['field'])}：{e['message']}"
                for e in checked["errors"]
            }
    except AppError as failure:
        errors = {"_form": problem_text(failure)}
    return JSONResponse({"errors": errors})


def _said_by_label(document: dict[str, Any], failure: CallFailed) -> dict[str, str]:
    """The guarantee service's refusal, each problem under the field it is about."""
    found = {
        path.removeprefix(
            "document."
        ): f"{policy_editor.label_of(document, path.removeprefix('document.'))}：{message}"
        for path, message in failure.field_messages
    }
    return found or {"_form": problem_text(failure)}


def _whatif_charts(summary: dict[str, Any]) -> dict[str, Any]:
    before, after = summary["before"], summary["after"]
    return {
        "decisions": charts.compare(
            "决策分布：现行与模拟",
            [(DECISION_ZH[d], Decimal(before[d]), Decimal(after[d])) for d in DECISION_ZH],
            unit=" 笔",
        ),
        "rate_volume": charts.compare(
            "通过率与担保规模：现行与模拟",
            [
                (
                    "通过率（%）",
                    (Decimal(before["approval_rate"] or 0) * 100).quantize(Decimal("0.01")),
                    (Decimal(after["approval_rate"] or 0) * 100).quantize(Decimal("0.01")),
                ),
                (
                    "担保规模（万元）",
                    (Decimal(before["guaranteed_volume"]) / 10000).quantize(Decimal("0.01")),
                    (Decimal(after["guaranteed_volume"]) / 10000).quantize(Decimal("0.01")),
                ),
            ],
        ),
    }


async def _yaml_refused(
    request: Request,
    session: SessionDep,
    principal: Principal,
    policy_id: uuid.UUID,
    yaml_text: str,
    failure: CallFailed,
) -> Response:
    calls = OnBehalf(request)
    policy = await calls.get(calls.guarantee, f"/v1/policies/{policy_id}")
    said = _said_by_label(policy["document"], failure)
    return await _version_page(
        request,
        session,
        principal,
        policy_id,
        error="YAML 未保存：" + "；".join(said.values()),
        yaml_text=yaml_text,
    )


@policy_pages.post("/{policy_id}/{action}")
async def act(request: Request, session: SessionDep, policy_id: uuid.UUID, action: str) -> Response:
    principal = await staff_member(request)
    if principal is None:
        return to_login(request)
    form = await form_data(request)
    calls = OnBehalf(request)
    base = f"/v1/policies/{policy_id}"
    here = f"policies/{policy_id}"
    try:
        if action == "copy":
            created = await calls.post(
                calls.guarantee,
                "/v1/policies",
                {"from_version_id": str(policy_id), "note": form.get("note", "").strip()},
            )
            return back(f"policies/{created['id']}", done="已复制为新的草稿，可修改后提交")
        if action == "document":
            try:
                await calls.put(
                    calls.guarantee,
                    f"{base}/document",
                    {"yaml": form.get("yaml", ""), "note": form.get("note") or None},
                )
            except CallFailed as failure:
                # The YAML typed is kept, and each problem named by its label.
                yaml_text = form.get("yaml", "")
                return await _yaml_refused(
                    request, session, principal, policy_id, yaml_text, failure
                )
            return back(here, done="草稿已保存")
        if action == "whatif":
            job = await calls.post(
                calls.guarantee,
                f"{base}/whatif",
                {"period_from": form.get("period_from"), "period_to": form.get("period_to")},
            )
            return back(f"{here}?job={job['id']}", done="模拟已开始")
        if action == "submission":
            effective = {"effective_from": form.get("effective_from")}
            await calls.post(calls.guarantee, f"{base}/submission", effective)
            return back(here, done="已提交审批")
        if action in ("approval", "rejection"):
            await calls.post(
                calls.guarantee, f"{base}/{action}", {"note": form.get("note") or None}
            )
            return back(here, done="已批准" if action == "approval" else "已退回")
    except CallFailed as failure:
        where = "；".join(f"{path}：{message}" for path, message in failure.field_messages[:8])
        return back(here, error=f"{problem_text(failure)}{'（' + where + '）' if where else ''}")
    except AppError as failure:
        return back(here, error=problem_text(failure))
    return back(here, error=f"未知操作 {action}")
