"""When lists change (issue 18): firms the fund stands behind (在保余额 above 0) whose
standing on the lists is no longer what their guarantees were issued on — named by a
barring list (失信被执行人, 三高一低) in force today, or on no list in force of the kind
whose benefit (专精特新's cap, 高新's points, …) they were issued on — each with its
exposure and what the policy in force makes of it. Never commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.facts import repository as repo
from services.guarantee.facts.kinds import KINDS, ListKind
from services.guarantee.facts.schemas import (
    ChangeKind,
    FactSource,
    ListingChange,
    ListingChangePage,
)
from services.guarantee.policies import service as policies
from services.guarantee.policies.documents import compiled_policy
from shared.money import from_fen

CHANGE_ZH = {"barred": "列入限制名单", "benefit_lapsed": "已不在名单"}
KEPT = "在保贷款的担保按合同继续，请关注其还款"


def _follows(change: ChangeKind, kind: ListKind, recheck: bool) -> str:
    name = KINDS[kind].name_zh
    if change == "barred":
        filing = "已评估通过、尚未放款的贷款不予备案" if recheck else "已评估通过的贷款仍可备案"
        return f"新申请不予担保；{filing}；{KEPT}"
    filing = (
        "新放款备案时按现行名单重新核验，超出普通条件的不予备案"
        if recheck
        else "已评估通过的贷款仍按评估时的条件备案"
    )
    return f"新申请不再享受{name}的条件（如单户上限、评分）；{filing}；{KEPT}"


async def _recheck(session: AsyncSession, today: date) -> bool:
    policy = await policies.in_force(session=session, on=today)
    return policy is None or compiled_policy(policy).document.facts.at_filing == "recheck"


@dataclass
class _Flag:
    change: ChangeKind
    uscc: str
    name: str
    kind: ListKind
    source: FactSource
    fen: int = 0
    guarantees: int = 0


def _flags(barred: Sequence[Any], lapsed: Sequence[Any]) -> list[_Flag]:
    """One flag per firm, kind and change: a firm named by several barring lists counts
    once; its guarantees issued on several versions of a list add up."""
    found: dict[tuple[ChangeKind, str, str], _Flag] = {}
    for uscc, name, list_id, kind, title, issuer, batch, fen, count in barred:
        source = FactSource(list_id=list_id, title=title, issuer=issuer, batch=batch)
        key = ("barred", uscc, kind)
        if key not in found:
            found[key] = _Flag("barred", uscc, name, ListKind(kind), source, int(fen), int(count))
    for uscc, kind, list_id, title, issuer, batch, name, fen, count in lapsed:
        source = FactSource(list_id=list_id, title=title, issuer=issuer, batch=batch)
        flag = found.setdefault(
            ("benefit_lapsed", uscc, kind),
            _Flag("benefit_lapsed", uscc, name or "", ListKind(kind), source),
        )
        flag.fen, flag.guarantees = flag.fen + int(fen), flag.guarantees + int(count)
    return sorted(found.values(), key=lambda f: (-f.fen, f.uscc, f.kind.value, f.change))


async def listing_changes(
    *, session: AsyncSession, today: date, offset: int, limit: int
) -> ListingChangePage:
    recheck = await _recheck(session, today)
    barring = [k.value for k, kind in KINDS.items() if not kind.positive]
    flags = _flags(
        await repo.barred_in_force(session=session, kinds=barring, day=today),
        await repo.benefits_lapsed(session=session, day=today),
    )
    return ListingChangePage(
        on=today,
        total=len(flags),
        outstanding=from_fen(sum(f.fen for f in flags)),
        items=[
            ListingChange(
                uscc=f.uscc,
                name=f.name or f.uscc,
                change=f.change,
                change_zh=CHANGE_ZH[f.change],
                kind=f.kind,
                kind_zh=KINDS[f.kind].name_zh,
                source=f.source,
                outstanding=from_fen(f.fen),
                guarantees=f.guarantees,
                what_follows_zh=_follows(f.change, f.kind, recheck),
            )
            for f in flags[offset : offset + limit]
        ],
    )
