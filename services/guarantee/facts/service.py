"""Reference lists: imported from an issuer's file as a draft, submitted with the day they
take effect, approved by a second person — and a firm's declared facts resolved against
those in force on a day. Never commits."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.facts import register
from services.guarantee.facts import repository as repo
from services.guarantee.facts.exceptions import ListFileInvalid, ListNotFound, ListStateConflict
from services.guarantee.facts.imports import (
    REQUIRED,
    MissingColumns,
    Parsed,
    UnreadableFile,
    parse,
)
from services.guarantee.facts.kinds import KINDS, ListKind
from services.guarantee.facts.resolution import (
    Listing,
    Resolved,
    Trial,
    Unverified,
    Version,
    attested_by_flag,
    list_in_force,
    listing_on,
    resolve,
    superseded_from,
)
from services.guarantee.facts.schemas import (
    BadRowPublic,
    ListEntryPage,
    ListEntryPublic,
    ListImportResult,
    ReferenceListPage,
    ReferenceListPublic,
)
from services.guarantee.models import AuditEntry, GuaranteeBenefit, ReferenceList
from shared import audit
from shared.auth import Principal, require_approve_permission, same_person
from shared.clock import utcnow
from shared.contracts.assessment import Attestation, EnterpriseFlags
from shared.errors import FieldError, FourEyesRequired, ValidationFailed

ENTITY = "reference_list"
SAMPLE = 20


def public(kept: ReferenceList, today: date) -> ReferenceListPublic:
    return ReferenceListPublic(
        **kept.model_dump(exclude={"kind"}),
        kind=ListKind(kept.kind),
        kind_zh=KINDS[ListKind(kept.kind)].name_zh,
        in_force_today=list_in_force(_version(kept), today),
    )


def _version(kept: ReferenceList) -> Version:
    return Version(kept.status, kept.effective_from, kept.expires_on, kept.superseded_from)


def _audit(
    principal: Principal, session: AsyncSession, action: str, kept: ReferenceList, **detail: Any
) -> None:
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action=action,
        entity_type=ENTITY,
        entity_id=str(kept.id),
        detail={"kind": kept.kind, "batch": kept.batch, "status": kept.status, **detail},
        entity=kept,
        created=action == "reference_list.imported",
    )


@dataclass(frozen=True)
class ListFile:
    kind: ListKind
    issuer: str
    batch: str
    title: str
    filename: str
    content: bytes
    columns: dict[str, str]  # field → header, when the clerk maps them


def _read(file: ListFile) -> Parsed:
    if register.is_register(file.issuer, file.batch):
        raise ListFileInvalid(f"“{file.issuer}·{file.batch}”为财政局复核认定专用，请换一个批次名称")
    try:
        return parse(file.content, file.filename, file.columns or None)
    except UnreadableFile as error:
        raise ListFileInvalid(str(error)) from error


async def import_list(
    *, session: AsyncSession, principal: Principal, file: ListFile, dry_run: bool, today: date
) -> ListImportResult:
    """The file read and checked; unless ``dry_run``, kept as a draft — all of it, or nothing
    when a row is bad (each one named). The same entries again: the list made before."""
    try:
        parsed = _read(file)
    except ListFileInvalid as refused:
        if dry_run and isinstance(refused.__cause__, MissingColumns):
            return _unmapped(refused.__cause__)
        raise
    preview = ListImportResult(
        dry_run=dry_run,
        columns=parsed.columns,
        headers=parsed.header[:100],
        rows=len(parsed.entries) + len({b.row for b in parsed.bad}),
        sample=[ListEntryPublic(**e.__dict__) for e in parsed.entries[:SAMPLE]],
        bad_rows=[BadRowPublic(**b.__dict__) for b in parsed.bad],
        content_hash=parsed.content_hash,
    )
    if dry_run:
        return preview
    if parsed.bad:
        raise _rows_invalid(parsed)
    if register.is_register(file.issuer, file.batch):
        raise ListFileInvalid(
            f"“{file.issuer}·{file.batch}”为财政局复核认定专用，请换用名单的批次名称"
        )
    if not parsed.entries:
        raise ListFileInvalid("名单中没有企业")
    before = await repo.same_list(
        session=session,
        kind=file.kind.value,
        issuer=file.issuer,
        batch=file.batch,
        content_hash=parsed.content_hash,
    )
    if before is not None:
        return preview.model_copy(update={"list": public(before, today), "created": False})
    kept = ReferenceList(
        kind=file.kind.value,
        issuer=file.issuer,
        batch=file.batch,
        title=file.title,
        status="draft",
        content_hash=parsed.content_hash,
        entries=len(parsed.entries),
        source_name=file.filename[:300],
        created_by=principal.actor,
    )
    await repo.add(session=session, kept=kept, entries=parsed.entries)
    _audit(
        principal,
        session,
        "reference_list.imported",
        kept,
        entries=kept.entries,
        file=kept.source_name,
    )
    return preview.model_copy(update={"list": public(kept, today), "created": True})


def _unmapped(missing: MissingColumns) -> ListImportResult:
    """A preview of a file whose required columns are not found: its header, to map from."""
    return ListImportResult(
        dry_run=True,
        columns=missing.found,
        headers=missing.header[:100],
        missing_columns=[f for f in REQUIRED if f not in missing.found],
        rows=0,
        sample=[],
        bad_rows=[],
        content_hash="",
    )


def _rows_invalid(parsed: Parsed) -> ListFileInvalid:
    return ListFileInvalid(
        f"名单有 {len({b.row for b in parsed.bad})} 行有误，未导入任何一行；请改正后重新导入",
        errors=[
            FieldError(
                field=f"row {b.row}: {b.column}",
                message=f"第 {b.row} 行“{b.column}”{_shown(b.value)}：{b.finding}",
                message_en=f"row {b.row}, column {b.column}: invalid",
                code="bad_row",
                line=b.row,
            )
            for b in parsed.bad[:500]
        ],
    )


def _shown(value: str) -> str:
    return f"（{value}）" if value else ""


async def _load(session: AsyncSession, list_id: uuid.UUID, lock: bool = False) -> ReferenceList:
    kept = await repo.get(session=session, list_id=list_id, lock=lock)
    if kept is None:
        raise ListNotFound(f"名单 {list_id} 不存在")
    return kept


async def get(*, session: AsyncSession, list_id: uuid.UUID, today: date) -> ReferenceListPublic:
    return public(await _load(session, list_id), today)


async def list_page(
    *,
    session: AsyncSession,
    kind: str | None,
    status: str | None,
    offset: int,
    limit: int,
    today: date,
) -> ReferenceListPage:
    found, total = await repo.page(
        session=session, kind=kind, status=status, offset=offset, limit=limit
    )
    return ReferenceListPage(total=total, items=[public(k, today) for k in found])


async def entries(
    *, session: AsyncSession, list_id: uuid.UUID, text: str, offset: int, limit: int
) -> ListEntryPage:
    await _load(session, list_id)
    found, total = await repo.entries_of(
        session=session, list_id=list_id, text=text, offset=offset, limit=limit
    )
    return ListEntryPage(
        total=total,
        items=[ListEntryPublic.model_validate(e, from_attributes=True) for e in found],
    )


def _dates(effective_from: date, expires_on: date | None) -> None:
    # A list may count from before it was imported (the day the issuer announced it): an
    # assessment already made keeps the facts it went by (its trace), whatever comes later.
    if expires_on is not None and expires_on < effective_from:
        raise ValidationFailed(
            "名单的失效日期不能早于生效日期",
            errors=[
                FieldError(
                    field="expires_on",
                    message="失效日期不能早于生效日期",
                    message_en="expires_on precedes effective_from",
                    code="expires_before_effective",
                )
            ],
        )


async def submit(
    *,
    session: AsyncSession,
    principal: Principal,
    list_id: uuid.UUID,
    effective_from: date,
    expires_on: date | None,
    today: date,
) -> ReferenceListPublic:
    kept = await _load(session, list_id, lock=True)
    if kept.status != "draft":
        raise ListStateConflict(f"只有草稿可以提交审批（当前为 {kept.status}）")
    _dates(effective_from, expires_on)
    kept.status = "pending_approval"
    kept.effective_from, kept.expires_on = effective_from, expires_on
    kept.submitted_by, kept.submitted_at = principal.actor, utcnow()
    _audit(principal, session, "reference_list.submitted", kept, effective_from=str(effective_from))
    return public(kept, today)


async def decide(
    *,
    session: AsyncSession,
    principal: Principal,
    list_id: uuid.UUID,
    approve: bool,
    note: str | None,
    today: date,
) -> ReferenceListPublic:
    """批准 (in force from its day; a previous version of the series ends there) or 退回."""
    require_approve_permission(principal, "审批名单")
    kept = await _load(session, list_id, lock=True)
    if kept.status != "pending_approval":
        raise ListStateConflict(f"只有待审批的名单可以批准或退回（当前为 {kept.status}）")
    if same_person(principal, kept.submitted_by, kept.created_by):
        raise FourEyesRequired(
            f"名单由 {kept.submitted_by} 提交、{kept.created_by} 导入，"
            "须由另一位有审批权限的人员审批"
        )
    kept.status = "approved" if approve else "rejected"
    kept.decided_by, kept.decided_at, kept.decision_note = principal.actor, utcnow(), note
    await session.flush()
    if approve:
        await _rechain(session, kept)
    _audit(principal, session, f"reference_list.{kept.status}", kept, note=note)
    return public(kept, today)


async def _rechain(session: AsyncSession, kept: ReferenceList) -> None:
    """Each approved version of the series counts until the next one begins."""
    series = await repo.approved_of_series(
        session=session, kind=kept.kind, issuer=kept.issuer, batch=kept.batch
    )
    ends = superseded_from([(v.effective_from, str(v.id)) for v in series if v.effective_from])
    for version in series:
        end = ends.get(str(version.id))
        if version.superseded_from != end:
            version.superseded_from = end


async def resolve_facts(
    *,
    session: AsyncSession,
    uscc: str,
    declared: EnterpriseFlags,
    on: date,
    unverified: Unverified,
    attestations: Sequence[Attestation] = (),
) -> Resolved:
    """The firm's facts on ``on``, each against the lists in force that day."""
    found = await repo.listings_of_firms(session=session, usccs=[uscc], day=on)
    return resolve(declared, found[uscc], unverified, attested_by_flag(attestations))


async def listings(
    *, session: AsyncSession, wanted: Collection[tuple[str, date]]
) -> dict[tuple[str, date], dict[ListKind, Listing]]:
    """The lists naming each (firm, day) in force that day: one query per day."""
    out: dict[tuple[str, date], dict[ListKind, Listing]] = {}
    for day in {d for _, d in wanted}:
        usccs = {u for u, d in wanted if d == day}
        for uscc, found in (
            await repo.listings_of_firms(session=session, usccs=usccs, day=day)
        ).items():
            out[(uscc, day)] = found
    return out


async def trial(
    *, session: AsyncSession, list_id: uuid.UUID, wanted: Collection[tuple[str, date]]
) -> Trial:
    """The list version ``list_id`` tried as if in force (replacing its series): the list of
    its kind that would count for each (firm, day)."""
    candidate = await _load(session, list_id)
    named = await repo.naming_firms(
        session=session,
        kind=candidate.kind,
        usccs={uscc for uscc, _ in wanted},
        candidate=candidate,
    )
    return Trial(
        ListKind(candidate.kind),
        {(uscc, day): listing_on(named[uscc], day) for uscc, day in wanted},
    )


async def tried_list(*, session: AsyncSession, list_id: uuid.UUID) -> ReferenceList:
    """A list version that may be tried by what-if (any but one sent back)."""
    kept = await _load(session, list_id)
    if kept.status == "rejected":
        raise ListStateConflict("已退回的名单不能用于模拟")
    return kept


def benefits_of(trace: dict[str, Any]) -> list[tuple[ListKind, uuid.UUID]]:
    """The benefits an assessment went by that a list verified: (kind, the list)."""
    found = []
    for fact in trace.get("facts") or []:
        source = fact.get("source") or {}
        if fact.get("standing") != "verified" or not source.get("list_id"):
            continue
        kind = ListKind(source["kind"])
        if KINDS[kind].positive:
            found.append((kind, uuid.UUID(str(source["list_id"]))))
    return found


async def record_benefits(
    *, session: AsyncSession, guarantee_id: uuid.UUID, uscc: str, trace: dict[str, Any]
) -> None:
    """What the guarantee was issued on, to flag it when the firm drops off those lists."""
    repo.add_benefits(
        session,
        [
            GuaranteeBenefit(
                guarantee_id=guarantee_id, kind=k.value, enterprise_uscc=uscc, list_id=i
            )
            for k, i in benefits_of(trace)
        ],
    )
