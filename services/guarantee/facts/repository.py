"""Every query of reference lists and their entries."""

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.guarantee.facts.imports import Entry
from services.guarantee.facts.kinds import ListKind
from services.guarantee.facts.resolution import Listing, Named, Version
from services.guarantee.models import Guarantee, GuaranteeBenefit, ReferenceEntry, ReferenceList

_entries: sa.Table = ReferenceEntry.__table__  # type: ignore[attr-defined]
_lists: sa.Table = ReferenceList.__table__  # type: ignore[attr-defined]


async def same_list(
    *, session: AsyncSession, kind: str, issuer: str, batch: str, content_hash: str
) -> ReferenceList | None:
    """A list of the series with these very entries, not sent back (the file again)."""
    result = await session.execute(
        select(ReferenceList).where(
            ReferenceList.kind == kind,
            ReferenceList.issuer == issuer,
            ReferenceList.batch == batch,
            ReferenceList.content_hash == content_hash,
            ReferenceList.status != "rejected",
        )
    )
    return result.scalars().first()


async def add(*, session: AsyncSession, kept: ReferenceList, entries: Sequence[Entry]) -> None:
    """The list and its entries (one statement for all of them)."""
    session.add(kept)
    await session.flush()
    if entries:
        await session.execute(
            sa.insert(_entries),
            [
                {
                    "list_id": kept.id,
                    "uscc": e.uscc,
                    "name": e.name,
                    "certificate_no": e.certificate_no,
                    "valid_from": e.valid_from,
                    "valid_to": e.valid_to,
                }
                for e in entries
            ],
        )


async def get(
    *, session: AsyncSession, list_id: uuid.UUID, lock: bool = False
) -> ReferenceList | None:
    query = select(ReferenceList).where(ReferenceList.id == list_id)
    if lock:
        query = query.with_for_update()
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def page(
    *, session: AsyncSession, kind: str | None, status: str | None, offset: int, limit: int
) -> tuple[Sequence[ReferenceList], int]:
    where = []
    if kind:
        where.append(ReferenceList.kind == kind)
    if status:
        where.append(ReferenceList.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(_lists).where(*where))
    result = await session.execute(
        select(ReferenceList)
        .where(*where)
        .order_by(col(ReferenceList.created_at).desc(), col(ReferenceList.id))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total or 0)


async def entries_of(
    *, session: AsyncSession, list_id: uuid.UUID, text: str, offset: int, limit: int
) -> tuple[Sequence[ReferenceEntry], int]:
    where = [ReferenceEntry.list_id == list_id]
    if text:
        where.append(
            sa.or_(
                col(ReferenceEntry.uscc).contains(text, autoescape=True),
                col(ReferenceEntry.name).contains(text, autoescape=True),
            )
        )
    total = await session.scalar(sa.select(sa.func.count()).select_from(_entries).where(*where))
    result = await session.execute(
        select(ReferenceEntry)
        .where(*where)
        .order_by(col(ReferenceEntry.uscc))
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total or 0)


async def approved_of_series(
    *, session: AsyncSession, kind: str, issuer: str, batch: str
) -> Sequence[ReferenceList]:
    """The series' approved versions, in the order they were approved."""
    result = await session.execute(
        select(ReferenceList)
        .where(
            ReferenceList.kind == kind,
            ReferenceList.issuer == issuer,
            ReferenceList.batch == batch,
            ReferenceList.status == "approved",
        )
        .order_by(col(ReferenceList.decided_at), col(ReferenceList.id))
    )
    return result.scalars().all()


def _counting_on(day: date, lists: Any, entries: Any) -> list[Any]:
    """A list in force on ``day`` and its entry valid then (resolution.py's rules in SQL)."""
    return [
        lists.status == "approved",
        lists.effective_from <= day,
        sa.or_(lists.expires_on.is_(None), lists.expires_on >= day),
        sa.or_(lists.superseded_from.is_(None), lists.superseded_from > day),
        sa.or_(entries.valid_from.is_(None), entries.valid_from <= day),
        sa.or_(entries.valid_to.is_(None), entries.valid_to >= day),
    ]


async def listings_of_firms(
    *, session: AsyncSession, usccs: Collection[str], day: date
) -> dict[str, dict[ListKind, Listing]]:
    """Per firm, the lists in force on ``day`` it is on (its entry valid that day), one per
    kind — facts/resolution.py ``list_in_force`` and ``entry_in_force`` as one query."""
    found: dict[str, dict[ListKind, Listing]] = {u: {} for u in usccs}
    if not usccs:
        return found
    lists, entries = _lists.c, _entries.c
    result = await session.execute(
        sa.select(entries.uscc, lists.id, lists.kind, lists.title, lists.issuer, lists.batch)
        .join(_entries, entries.list_id == lists.id)
        .where(entries.uscc.in_(list(usccs)), *_counting_on(day, lists, entries))
        .order_by(lists.effective_from.desc(), lists.id)
    )
    for uscc, list_id, kind, title, issuer, batch in result.all():
        found[uscc].setdefault(
            ListKind(kind), Listing(str(list_id), ListKind(kind), title, issuer, batch)
        )
    return found


async def naming_firms(
    *, session: AsyncSession, kind: str, usccs: Collection[str], candidate: ReferenceList
) -> dict[str, list[Named]]:
    """Per firm, every list of ``kind`` naming it that could count on some day — approved
    ones outside the candidate's series, and the candidate itself as if in force from any
    day (``Named`` says on which days each counts)."""
    found: dict[str, list[Named]] = {u: [] for u in usccs}
    if not usccs:
        return found
    lists, entries = _lists.c, _entries.c
    other_series = sa.and_(
        lists.kind == kind,
        lists.status == "approved",
        sa.not_(sa.and_(lists.issuer == candidate.issuer, lists.batch == candidate.batch)),
    )
    result = await session.execute(
        sa.select(
            entries.uscc,
            entries.valid_from,
            entries.valid_to,
            lists.id,
            lists.title,
            lists.issuer,
            lists.batch,
            lists.effective_from,
            lists.expires_on,
            lists.superseded_from,
        )
        .join(_entries, entries.list_id == lists.id)
        .where(entries.uscc.in_(list(usccs)), sa.or_(lists.id == candidate.id, other_series))
    )
    for row in result.all():
        trial = row.id == candidate.id
        found[row.uscc].append(
            Named(
                Listing(str(row.id), ListKind(kind), row.title, row.issuer, row.batch),
                # The candidate counts on every day tried; the others as they stand.
                Version("approved", date.min, None, None)
                if trial
                else Version("approved", row.effective_from, row.expires_on, row.superseded_from),
                row.valid_from,
                row.valid_to,
            )
        )
    return found


def add_benefits(session: AsyncSession, benefits: Sequence[GuaranteeBenefit]) -> None:
    session.add_all(benefits)


_guarantees: sa.Table = Guarantee.__table__  # type: ignore[attr-defined]
_benefits: sa.Table = GuaranteeBenefit.__table__  # type: ignore[attr-defined]


async def barred_in_force(
    *, session: AsyncSession, kinds: Collection[str], day: date
) -> Sequence[sa.Row[Any]]:
    """Firms with guarantees in force named by a barring list in force on ``day``: (uscc,
    name, list id, kind, title, issuer, batch, outstanding in fen, guarantees)."""
    lists, entries, g = _lists.c, _entries.c, _guarantees.c
    result = await session.execute(
        sa.select(
            entries.uscc,
            entries.name,
            lists.id,
            lists.kind,
            lists.title,
            lists.issuer,
            lists.batch,
            sa.func.sum(g.outstanding_fen),
            sa.func.count(g.id),
        )
        .select_from(_lists)
        .join(_entries, entries.list_id == lists.id)
        .join(_guarantees, sa.and_(g.enterprise_uscc == entries.uscc, g.outstanding_fen > 0))
        .where(lists.kind.in_(list(kinds)), *_counting_on(day, lists, entries))
        .group_by(
            entries.uscc,
            entries.name,
            lists.id,
            lists.kind,
            lists.title,
            lists.issuer,
            lists.batch,
        )
    )
    return result.all()


async def benefits_lapsed(*, session: AsyncSession, day: date) -> Sequence[sa.Row[Any]]:
    """Guarantees in force issued on a benefit no list of its kind shows on ``day``, per firm
    and kind: (uscc, kind, the list that verified it, its title, issuer, batch, the firm's
    name there, outstanding in fen, guarantees)."""
    lists, entries, g, b = _lists.c, _entries.c, _guarantees.c, _benefits.c
    now_lists, now_entries = _lists.alias("now_lists"), _entries.alias("now_entries")
    still = (
        sa.select(sa.literal(1))
        .select_from(now_lists)
        .join(now_entries, now_entries.c.list_id == now_lists.c.id)
        .where(
            now_entries.c.uscc == b.enterprise_uscc,
            now_lists.c.kind == b.kind,
            *_counting_on(day, now_lists.c, now_entries.c),
        )
    )
    result = await session.execute(
        sa.select(
            b.enterprise_uscc,
            b.kind,
            lists.id,
            lists.title,
            lists.issuer,
            lists.batch,
            sa.func.max(entries.name),
            sa.func.sum(g.outstanding_fen),
            sa.func.count(g.id),
        )
        .select_from(_benefits)
        .join(_guarantees, sa.and_(g.id == b.guarantee_id, g.outstanding_fen > 0))
        .join(_lists, lists.id == b.list_id)
        .outerjoin(
            _entries, sa.and_(entries.list_id == b.list_id, entries.uscc == b.enterprise_uscc)
        )
        .where(~sa.exists(still))
        .group_by(b.enterprise_uscc, b.kind, lists.id, lists.title, lists.issuer, lists.batch)
    )
    return result.all()


async def register_of(
    *, session: AsyncSession, kind: str, issuer: str, batch: str
) -> ReferenceList | None:
    """The bureau's register of ``kind`` (one per kind), locked to add to it."""
    result = await session.execute(
        select(ReferenceList)
        .where(
            ReferenceList.kind == kind,
            ReferenceList.issuer == issuer,
            ReferenceList.batch == batch,
        )
        .with_for_update()
    )
    return result.scalars().first()


async def put_entry(*, session: AsyncSession, entry: ReferenceEntry) -> int:
    """The entry written (replacing the firm's earlier one); 1 if the firm is new to it."""
    before = await session.get(ReferenceEntry, (entry.list_id, entry.uscc))
    if before is None:
        session.add(entry)
        await session.flush()
        return 1
    for field in ("name", "certificate_no", "valid_from", "valid_to"):
        setattr(before, field, getattr(entry, field))
    await session.flush()
    return 0
