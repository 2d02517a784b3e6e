"""Seed for local runs and fresh installs: the shipped default policy, in force from
2021-01-01; and, for the demo, reference lists naming the demo's firms."""

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.config import Settings
from services.guarantee.facts import repository as lists_repo
from services.guarantee.facts.imports import Entry
from services.guarantee.facts.kinds import KINDS, ListKind
from services.guarantee.models import ReferenceList
from services.guarantee.policies.default_policy import install_default_policy
from shared.db import make_engine, make_sessionmaker
from shared.uscc import check_character

DEFAULT_EFFECTIVE_FROM = date(2021, 1, 1)


async def seed(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            policy = await install_default_policy(
                session=session, effective_from=DEFAULT_EFFECTIVE_FROM
            )
            if settings.environment != "production":
                await _demo_lists(session)
    finally:
        await engine.dispose()
    return (
        f"guarantee: policy in force {policy.name} v{policy.version} from {policy.effective_from}"
    )


# The demo's firms (loan_intake's demo firm and deploy/demo_books.py's four): the first two
# are on the 专精特新 list, one on the 高新技术企业 list; the others declare what no list shows.
DEMO_LISTS = {
    ListKind.SPECIALIZED_NEW: (
        "2025年第二批",
        [
            ("91310118MA1JL0000N", "上海青浦示范精密机械有限公司"),
            (
                "91310118DM0000001" + check_character("91310118DM0000001"),
                "上海青浦精密机械有限公司",
            ),
        ],
    ),
    ListKind.HIGH_TECH: ("2024年度", [("91310118MA1JL0000N", "上海青浦示范精密机械有限公司")]),
}


async def _demo_lists(session: AsyncSession) -> None:
    """Approved lists as if the bureau had imported them (once: the same entries again are
    the same list)."""
    approved_at = datetime(2025, 12, 1, tzinfo=UTC)
    for kind, (batch, firms) in DEMO_LISTS.items():
        spec = KINDS[kind]
        entries = [Entry(uscc, name) for uscc, name in firms]
        digest = "demo-" + kind.value
        if await lists_repo.same_list(
            session=session,
            kind=kind.value,
            issuer=spec.usual_issuer,
            batch=batch,
            content_hash=digest,
        ):
            continue
        kept = ReferenceList(
            kind=kind.value,
            issuer=spec.usual_issuer,
            batch=batch,
            title=f"{batch}{spec.name_zh}（演示）",
            status="approved",
            effective_from=date(2025, 12, 1),
            content_hash=digest,
            entries=len(entries),
            source_name="演示数据",
            created_by="system:seed",
            submitted_by="system:seed",
            submitted_at=approved_at,
            decided_by="system:seed",
            decided_at=approved_at,
        )
        await lists_repo.add(session=session, kept=kept, entries=entries)
