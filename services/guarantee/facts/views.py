"""A firm's facts as shown to people: labels and standings in Chinese, the list named."""

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.facts import service
from services.guarantee.facts.resolution import Fact, Resolved
from services.guarantee.facts.schemas import FactPublic, FactSource, FirmFacts
from shared.contracts.assessment import EnterpriseFlags

STANDING_ZH = {
    "verified": "已核验",
    "declared_only": "仅企业申报，名单未见",
    "contradicted": "与申报不符（名单在册）",
    "declared": "企业自行申报",
    "attested": "贷款银行核查",
    "unchecked": "无名单可核，按申报",
    "absent": "未申报、名单未见",
}


def fact_public(fact: Fact) -> FactPublic:
    field = EnterpriseFlags.model_fields[fact.flag]
    return FactPublic(
        flag=fact.flag,
        label_zh=field.description or fact.flag,
        declared=fact.declared,
        value=fact.value,
        standing=fact.standing,
        standing_zh=STANDING_ZH[fact.standing],
        source=(
            FactSource(
                list_id=uuid.UUID(fact.source.list_id),
                title=fact.source.title,
                issuer=fact.source.issuer,
                batch=fact.source.batch,
            )
            if fact.source
            else None
        ),
    )


def facts_public(resolved: Resolved) -> list[FactPublic]:
    return [fact_public(f) for f in resolved.facts]


async def firm_facts(*, session: AsyncSession, uscc: str, on: date) -> FirmFacts:
    resolved = await service.resolve_facts(
        session=session, uscc=uscc, declared=EnterpriseFlags(), on=on, unverified="ignore"
    )
    return FirmFacts(uscc=uscc, on=on, facts=facts_public(resolved))
