"""Policy versions: draft → pending_approval → approved | rejected, four eyes, diff, import/export.

Never commits, never HTTP. Every change is written to the audit log in the same
transaction as the change itself.
"""

import json
import uuid
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient

from services.guarantee import repository as repo
from services.guarantee.default_policy import default_policy
from services.guarantee.exceptions import (
    EffectiveDateInvalid,
    PolicyInvalid,
    PolicyNotEditable,
    PolicyNotFound,
    PolicyStateConflict,
)
from services.guarantee.models import (
    POLICY_STATUS_ZH,
    AuditEntryPublic,
    AuditPage,
    PolicyChange,
    PolicyCheckResult,
    PolicyCreate,
    PolicyDiff,
    PolicyDocumentUpdate,
    PolicyStatus,
    PolicyVersion,
    PolicyVersionPage,
    PolicyVersionPublic,
    PolicyVersionSummary,
)
from services.guarantee.policy import (
    CompiledPolicy,
    PolicyDocument,
    compile_policy,
    content_hash,
)
from services.guarantee.policy import PolicyInvalid as DocumentInvalid
from shared.auth import Principal, require_approve_permission
from shared.clock import utcnow
from shared.errors import (
    FieldError,
    FourEyesRequired,
    ValidationFailed,
    field_errors_from_pydantic,
)

ENTITY = "policy_version"

# Versions never change once submitted, so a compiled policy is kept by content hash.
_compiled: dict[str, CompiledPolicy] = {}


def compiled_policy(version: PolicyVersion) -> CompiledPolicy:
    policy = _compiled.get(version.content_hash)
    if policy is None:
        policy = compile_policy(PolicyDocument.model_validate(version.document))
        _compiled[version.content_hash] = policy
    return policy


# --- documents ------------------------------------------------------------------------------


def read_document(document: dict[str, Any] | None, yaml_text: str | None) -> dict[str, Any]:
    """The document given as JSON or as YAML text (exactly one of them)."""
    if (document is None) == (yaml_text is None):
        raise ValidationFailed(
            "请提供 document（JSON）或 yaml（YAML 文本）之一",
            errors=[
                FieldError(
                    field="document",
                    message="document 与 yaml 必须且只能提供一个",
                    message_en="give exactly one of document and yaml",
                    code="one_of_required",
                )
            ],
        )
    if document is not None:
        return document
    assert yaml_text is not None
    try:
        loaded = yaml.safe_load(yaml_text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyInvalid(
            "YAML 无法解析",
            errors=[
                FieldError(
                    field="yaml",
                    message=f"YAML 语法错误（第 {line} 行第 {column} 列）：{problem}",
                    message_en=f"YAML syntax error at line {line}, column {column}: {problem}",
                    code="yaml_syntax",
                    line=line,
                    column=column,
                )
            ],
        ) from None
    if not isinstance(loaded, dict):
        raise PolicyInvalid(
            "YAML 顶层应为映射",
            errors=[
                FieldError(
                    field="yaml",
                    message="YAML 顶层应为键值映射（name、rules、scoring…）",
                    message_en="the YAML must be a mapping at the top (name, rules, scoring…)",
                    code="yaml_not_mapping",
                )
            ],
        )
    return loaded


def check_document(raw: dict[str, Any]) -> tuple[dict[str, Any], CompiledPolicy]:
    """Validate and compile; the canonical document and its compiled form, or PolicyInvalid."""
    try:
        document = PolicyDocument.model_validate(raw)
    except ValidationError as error:
        errors = field_errors_from_pydantic(error.errors(include_url=False))  # type: ignore[arg-type]
        raise PolicyInvalid(f"政策内容有 {len(errors)} 处错误", errors=errors) from None
    try:
        compiled = compile_policy(document)
    except DocumentInvalid as error:
        raise PolicyInvalid(
            f"政策中有 {len(error.errors)} 个表达式或消息无法使用", errors=error.errors
        ) from None
    canonical = document.model_dump(mode="json")
    _compiled.setdefault(content_hash(canonical), compiled)
    return canonical, compiled


def check(document: dict[str, Any] | None, yaml_text: str | None) -> PolicyCheckResult:
    raw = read_document(document, yaml_text)
    try:
        canonical, _ = check_document(raw)
    except PolicyInvalid as error:
        return PolicyCheckResult(valid=False, content_hash="", errors=error.errors or [])
    return PolicyCheckResult(valid=True, content_hash=content_hash(canonical), errors=[])


def export(version: PolicyVersion, fmt: str) -> str:
    if fmt == "yaml":
        header = (
            f"# {version.name} v{version.version}"
            f" ({POLICY_STATUS_ZH[PolicyStatus(version.status)]})"
            f" sha256:{version.content_hash}\n"
        )
        return header + yaml.safe_dump(
            version.document, allow_unicode=True, sort_keys=False, width=100
        )
    return json.dumps(version.document, ensure_ascii=False, indent=2)


# --- reading ----------------------------------------------------------------------------------


def _summary_fields(version: PolicyVersion, in_force_id: uuid.UUID | None) -> dict[str, Any]:
    fields = {
        name: getattr(version, name)
        for name in PolicyVersionSummary.model_fields
        if hasattr(version, name)
    }
    fields["status_zh"] = POLICY_STATUS_ZH[PolicyStatus(version.status)]
    fields["in_force"] = version.id == in_force_id
    return fields


async def _in_force_id(session: AsyncSession, today: date) -> uuid.UUID | None:
    policy = await repo.policy_in_force(session=session, on=today)
    return policy.id if policy else None


async def _load(
    session: AsyncSession, policy_id: uuid.UUID, *, lock: bool = False
) -> PolicyVersion:
    version = await repo.get_policy(session=session, policy_id=policy_id, for_update=lock)
    if version is None:
        raise PolicyNotFound(f"没有编号为 {policy_id} 的政策版本")
    return version


async def public(session: AsyncSession, version: PolicyVersion, today: date) -> PolicyVersionPublic:
    return PolicyVersionPublic(
        **_summary_fields(version, await _in_force_id(session, today)), document=version.document
    )


async def get(*, session: AsyncSession, policy_id: uuid.UUID, today: date) -> PolicyVersionPublic:
    return await public(session, await _load(session, policy_id), today)


async def get_version(*, session: AsyncSession, policy_id: uuid.UUID) -> PolicyVersion:
    return await _load(session, policy_id)


async def list_versions(
    *, session: AsyncSession, status: str | None, offset: int, limit: int, today: date
) -> PolicyVersionPage:
    versions, total = await repo.list_policies(
        session=session, status=status, offset=offset, limit=limit
    )
    in_force = await _in_force_id(session, today)
    return PolicyVersionPage(
        items=[PolicyVersionSummary(**_summary_fields(v, in_force)) for v in versions],
        total=total,
        offset=offset,
        limit=limit,
    )


async def in_force(*, session: AsyncSession, on: date) -> PolicyVersion | None:
    return await repo.policy_in_force(session=session, on=on)


# --- changing ---------------------------------------------------------------------------------


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    version: PolicyVersion,
    *,
    created: bool = False,
    **detail: Any,
) -> None:
    await repo.audit(
        session=session,
        actor=principal.actor,
        action=action,
        entity_type=ENTITY,
        entity_id=str(version.id),
        detail={"version": version.version, "status": version.status, **detail},
        entity=version,
        created=created,
    )


async def create_draft(
    *, session: AsyncSession, principal: Principal, payload: PolicyCreate, today: date
) -> PolicyVersionPublic:
    given = [payload.from_version_id, payload.document, payload.yaml]
    if sum(x is not None for x in given) != 1:
        raise ValidationFailed(
            "请提供 from_version_id、document 或 yaml 之一",
            errors=[
                FieldError(
                    field="from_version_id",
                    message="from_version_id、document、yaml 必须且只能提供一个",
                    message_en="give exactly one of from_version_id, document and yaml",
                    code="one_of_required",
                )
            ],
        )
    based_on = None
    if payload.from_version_id is not None:
        based_on = await _load(session, payload.from_version_id)
        raw, source = based_on.document, "copy"
    else:
        raw = read_document(payload.document, payload.yaml)
        source = "json" if payload.document is not None else "yaml"
    canonical, _ = check_document(raw)
    version = PolicyVersion(
        name=canonical["name"],
        version=0,
        status=PolicyStatus.DRAFT,
        document=canonical,
        content_hash=content_hash(canonical),
        based_on_id=based_on.id if based_on else None,
        note=payload.note,
        created_by=principal.actor,
    )
    await _insert_numbered(session, version)
    await _audit(
        session,
        principal,
        "policy.drafted",
        version,
        created=True,
        source=source,
        based_on_version=based_on.version if based_on else None,
        content_hash=version.content_hash,
    )
    return await public(session, version, today)


async def _insert_numbered(session: AsyncSession, version: PolicyVersion) -> None:
    """Insert with the next version number; a concurrent draft that took it first (the
    unique index says so) makes us take the one after."""
    for attempt in range(10):
        version.version = await repo.next_policy_version(session=session)
        try:
            async with session.begin_nested():
                repo.add(session, version)
                await session.flush()
            return
        except IntegrityError:
            if attempt == 9:
                raise
            make_transient(version)


async def update_draft(
    *,
    session: AsyncSession,
    principal: Principal,
    policy_id: uuid.UUID,
    payload: PolicyDocumentUpdate,
    today: date,
) -> PolicyVersionPublic:
    version = await _load(session, policy_id, lock=True)
    if version.status != PolicyStatus.DRAFT:
        raise PolicyNotEditable(
            f"v{version.version} 状态为“{POLICY_STATUS_ZH[PolicyStatus(version.status)]}”，"
            "不能修改；请以它为基础新建草稿"
        )
    canonical, _ = check_document(read_document(payload.document, payload.yaml))
    changes = diff_documents(version.document, canonical)
    before = version.content_hash
    version.document = canonical
    version.name = canonical["name"]
    version.content_hash = content_hash(canonical)
    if payload.note is not None:
        version.note = payload.note
    version.updated_at = utcnow()
    await _audit(
        session,
        principal,
        "policy.edited",
        version,
        content_hash_before=before,
        content_hash_after=version.content_hash,
        changes=[c.model_dump(mode="json") for c in changes],
    )
    return await public(session, version, today)


async def submit(
    *,
    session: AsyncSession,
    principal: Principal,
    policy_id: uuid.UUID,
    effective_from: date,
    today: date,
) -> PolicyVersionPublic:
    version = await _load(session, policy_id, lock=True)
    if version.status != PolicyStatus.DRAFT:
        raise PolicyStateConflict(
            f"只有草稿可以提交审批（v{version.version} 当前为 {version.status}）"
        )
    _check_effective_from(effective_from, today)
    now = utcnow()
    version.status = PolicyStatus.PENDING_APPROVAL
    version.effective_from = effective_from
    version.submitted_by = principal.actor
    version.submitted_at = now
    version.updated_at = now
    await _audit(
        session,
        principal,
        "policy.submitted",
        version,
        effective_from=effective_from.isoformat(),
        content_hash=version.content_hash,
    )
    return await public(session, version, today)


def _check_effective_from(effective_from: date, today: date) -> None:
    # An approved version never changes what was in force before: past assessments stay
    # reproducible under the version they were made with.
    if effective_from < today:
        raise EffectiveDateInvalid(
            f"生效日期 {effective_from} 早于今天 {today}",
            errors=[
                FieldError(
                    field="effective_from",
                    message=f"生效日期不能早于今天（{today}）",
                    message_en=f"effective_from must not be before today ({today})",
                    code="effective_from_in_past",
                )
            ],
        )


async def approve(
    *,
    session: AsyncSession,
    principal: Principal,
    policy_id: uuid.UUID,
    note: str | None,
    today: date,
) -> PolicyVersionPublic:
    require_approve_permission(principal, "审批政策")
    version = await _load(session, policy_id, lock=True)
    if version.status != PolicyStatus.PENDING_APPROVAL:
        raise PolicyStateConflict(
            f"只有待审批的版本可以批准（v{version.version} 当前为 {version.status}）"
        )
    if principal.actor in {version.submitted_by, version.created_by}:
        raise FourEyesRequired(
            f"v{version.version} 由 {version.submitted_by} 提交、{version.created_by} 起草，"
            "须由另一位有审批权限的人员批准"
        )
    assert version.effective_from is not None
    _check_effective_from(version.effective_from, today)
    now = utcnow()
    version.status = PolicyStatus.APPROVED
    version.decided_by = principal.actor
    version.decided_at = now
    version.decision_note = note
    version.updated_at = now
    await session.flush()
    await _rechain(session)
    await _audit(
        session,
        principal,
        "policy.approved",
        version,
        effective_from=version.effective_from.isoformat(),
        content_hash=version.content_hash,
        note=note,
    )
    return await public(session, version, today)


async def _rechain(session: AsyncSession) -> None:
    """Each approved version ends where the next one begins: one version in force at a time."""
    approved = list(await repo.approved_policies(session=session))
    for current, following in zip(approved, [*approved[1:], None], strict=True):
        end = following.effective_from if following is not None else None
        if current.effective_to != end:
            current.effective_to = end


async def reject(
    *,
    session: AsyncSession,
    principal: Principal,
    policy_id: uuid.UUID,
    note: str | None,
    today: date,
) -> PolicyVersionPublic:
    require_approve_permission(principal, "审批政策")
    if not note or not note.strip():
        raise ValidationFailed(
            "退回须说明原因",
            errors=[
                FieldError(
                    field="note",
                    message="退回时必须填写原因",
                    message_en="a rejection needs a note",
                    code="missing",
                )
            ],
        )
    version = await _load(session, policy_id, lock=True)
    if version.status != PolicyStatus.PENDING_APPROVAL:
        raise PolicyStateConflict(
            f"只有待审批的版本可以退回（v{version.version} 当前为 {version.status}）"
        )
    now = utcnow()
    version.status = PolicyStatus.REJECTED
    version.decided_by = principal.actor
    version.decided_at = now
    version.decision_note = note
    version.updated_at = now
    await _audit(session, principal, "policy.rejected", version, note=note)
    return await public(session, version, today)


async def install_default_policy(*, session: AsyncSession, effective_from: date) -> PolicyVersion:
    """Install the shipped policy, approved by the system, unless one is approved (idempotent)."""
    approved = await repo.approved_policies(session=session)
    if approved:
        return approved[-1]
    canonical, _ = check_document(default_policy())
    now = utcnow()
    version = PolicyVersion(
        name=canonical["name"],
        version=await repo.next_policy_version(session=session),
        status=PolicyStatus.APPROVED,
        document=canonical,
        content_hash=content_hash(canonical),
        note="随系统发布的默认政策",
        effective_from=effective_from,
        created_by="system:seed",
        submitted_by="system:seed",
        submitted_at=now,
        decided_by="system:seed",
        decided_at=now,
        decision_note="初始化",
    )
    repo.add(session, version)
    await session.flush()
    await repo.audit(
        session=session,
        actor="system:seed",
        action="policy.installed",
        entity_type=ENTITY,
        entity_id=str(version.id),
        detail={"version": version.version, "content_hash": version.content_hash},
        entity=version,
        created=True,
    )
    return version


# --- diff -------------------------------------------------------------------------------------


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects with unique ``code`` as a mapping by code; otherwise None."""
    if not all(isinstance(i, dict) and "code" in i for i in items):
        return None
    keyed = {i["code"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def diff_documents(before: Any, after: Any, path: str = "") -> list[PolicyChange]:
    """What changed from ``before`` to ``after``; list entries with a ``code`` matched by code."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            child = f"{path}.{key}" if path else key
            if key not in after:
                changes.append(PolicyChange(path=child, change="removed", before=before[key]))
            elif key not in before:
                changes.append(PolicyChange(path=child, change="added", after=after[key]))
            else:
                changes += diff_documents(before[key], after[key], child)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            changes = []
            for code in [*old, *(c for c in new if c not in old)]:
                child = f"{path}[{code}]"
                if code not in new:
                    changes.append(PolicyChange(path=child, change="removed", before=old[code]))
                elif code not in old:
                    changes.append(PolicyChange(path=child, change="added", after=new[code]))
                else:
                    changes += diff_documents(old[code], new[code], child)
            if list(old) != [c for c in new if c in old] and not changes:
                changes.append(
                    PolicyChange(path=path, change="reordered", before=list(old), after=list(new))
                )
            return changes
    if before != after:
        return [PolicyChange(path=path, change="changed", before=before, after=after)]
    return []


async def diff(*, session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> PolicyDiff:
    old, new = await _load(session, from_id), await _load(session, to_id)
    return PolicyDiff(
        from_version=old.version,
        to_version=new.version,
        from_id=old.id,
        to_id=new.id,
        changes=diff_documents(old.document, new.document),
    )


async def audit_log(
    *, session: AsyncSession, entity_id: str | None, offset: int, limit: int
) -> AuditPage:
    entries, total = await repo.list_audit(
        session=session, entity_id=entity_id, offset=offset, limit=limit
    )
    return AuditPage(
        items=[AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries],
        total=total,
        offset=offset,
        limit=limit,
    )
