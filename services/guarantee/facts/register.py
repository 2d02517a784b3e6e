"""The bureau's own register of each kind of benefit: firms whose certificate it checked on
their request for review (fact_reviews), entered one at a time by an approver — a list like
the issuers', always in force, each entry valid from the day it was accepted until the
certificate's last day. Never commits."""

import hashlib
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.facts import repository as repo
from services.guarantee.facts.kinds import KINDS, ListKind
from services.guarantee.models import ReferenceEntry, ReferenceList
from shared.auth import Principal
from shared.clock import utcnow

ISSUER = "青浦区财政局"
BATCH = "企业申请复核认定"


def is_register(issuer: str, batch: str) -> bool:
    """The series of the registers (no file may be imported into it)."""
    return issuer == ISSUER and batch == BATCH


async def enter(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: ListKind,
    uscc: str,
    name: str,
    certificate_no: str,
    valid_to: date | None,
    today: date,
) -> ReferenceList:
    """The firm in the register of ``kind`` from ``today`` (its entry replaced if there)."""
    kept = await repo.register_of(session=session, kind=kind.value, issuer=ISSUER, batch=BATCH)
    if kept is None:
        now = utcnow()
        kept = ReferenceList(
            kind=kind.value,
            issuer=ISSUER,
            batch=BATCH,
            title=f"{KINDS[kind].name_zh}（财政局复核认定）",
            status="approved",
            effective_from=today,
            content_hash=hashlib.sha256(f"register:{kind.value}".encode()).hexdigest(),
            entries=0,
            source_name="企业申请复核",
            note="财政局审核企业提交的证书后逐家列入",
            created_by=principal.actor,
            submitted_by=principal.actor,
            submitted_at=now,
            decided_by=principal.actor,
            decided_at=now,
        )
        await repo.add(session=session, kept=kept, entries=[])
    entry = ReferenceEntry(
        list_id=kept.id,
        uscc=uscc,
        name=name,
        certificate_no=certificate_no,
        valid_from=today,
        valid_to=valid_to,
    )
    kept.entries += await repo.put_entry(session=session, entry=entry)
    return kept
