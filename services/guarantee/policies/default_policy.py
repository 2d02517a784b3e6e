"""The shipped policy "青浦区批次贷", kept as the YAML the bureau would import or export."""

import copy
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.models import AuditEntry, PolicyStatus, PolicyVersion
from services.guarantee.policies import repository as repo
from services.guarantee.policies.document import content_hash
from services.guarantee.policies.documents import check_document
from services.guarantee.policies.service import ENTITY
from shared import audit
from shared.clock import utcnow

DEFAULT_POLICY_FILE = Path(__file__).parent / "qingpu-picidai.yaml"


@cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))


def default_policy() -> dict[str, Any]:
    """A fresh copy of the shipped document (callers may edit it)."""
    return copy.deepcopy(_load())


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
    audit.append(
        session,
        AuditEntry,
        actor="system:seed",
        action="policy.installed",
        entity_type=ENTITY,
        entity_id=str(version.id),
        detail={"version": version.version, "content_hash": version.content_hash},
        entity=version,
        created=True,
    )
    return version
