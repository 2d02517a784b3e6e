"""Seed for local runs and fresh installs: the shipped default policy, in force from 2021-01-01."""

from datetime import date

from services.guarantee.config import Settings
from services.guarantee.policies.default_policy import install_default_policy
from shared.db import make_engine, make_sessionmaker

DEFAULT_EFFECTIVE_FROM = date(2021, 1, 1)


async def seed(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            policy = await install_default_policy(
                session=session, effective_from=DEFAULT_EFFECTIVE_FROM
            )
    finally:
        await engine.dispose()
    return (
        f"guarantee: policy in force {policy.name} v{policy.version} from {policy.effective_from}"
    )
