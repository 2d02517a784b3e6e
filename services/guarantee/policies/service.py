"""Policy versions: draft → pending_approval → approved | rejected, four eyes, diff.

Never commits, never HTTP. Every change is written to the audit log in the same
transaction as the change itself.
"""

import asyncio
import uuid
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient

from services.guarantee.models import POLICY_STATUS_ZH, AuditEntry, PolicyStatus, PolicyVersion
from services.guarantee.policies import repository as repo
from services.guarantee.policies.diff import diff_documents
from services.guarantee.policies.document import content_hash
from services.guarantee.policies.documents import check_document, read_document
from services.guarantee.policies.exceptions import (
    EffectiveDateInvalid,
    PolicyNotEditable,
    PolicyNotFound,
    PolicyStateConflict,
)
from services.guarantee.policies.schemas import (
    PolicyCreate,
    PolicyDiff,
    PolicyDocumentUpdate,
    PolicyVersionPage,
    PolicyVersionPublic,
    PolicyVersionSummary,
)
from shared import audit
from shared.auth import Principal, require_approve_permission, same_person
from shared.clock import utcnow
from shared.errors import FieldError, FourEyesRequired, ValidationFailed

ENTITY = "policy_version"


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


def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    version: PolicyVersion,
    *,
    created: bool = False,
    **detail: Any,
) -> None:
    audit.append(
        session,
        AuditEntry,
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
        raw = await asyncio.to_thread(read_document, payload.document, payload.yaml)
        source = "json" if payload.document is not None else "yaml"
    # Checking compiles every expression (CPU): in a thread, so requests keep being served.
    canonical, _ = await asyncio.to_thread(check_document, raw)
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
    _audit(
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
    raw = await asyncio.to_thread(read_document, payload.document, payload.yaml)
    canonical, _ = await asyncio.to_thread(check_document, raw)
    changes = diff_documents(version.document, canonical)
    before = version.content_hash
    version.document = canonical
    version.name = canonical["name"]
    version.content_hash = content_hash(canonical)
    if payload.note is not None:
        version.note = payload.note
    version.updated_at = utcnow()
    _audit(
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
    _audit(
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
    if same_person(principal, version.submitted_by, version.created_by):
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
    _audit(
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
    _audit(session, principal, "policy.rejected", version, note=note)
    return await public(session, version, today)


async def diff(*, session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> PolicyDiff:
    old, new = await _load(session, from_id), await _load(session, to_id)
    return PolicyDiff(
        from_version=old.version,
        to_version=new.version,
        from_id=old.id,
        to_id=new.id,
        changes=diff_documents(old.document, new.document),
    )
