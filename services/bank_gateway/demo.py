"""Demo partner bank for local runs."""

from services.bank_gateway.banks.service import ensure_bank
from services.bank_gateway.config import Settings
from services.bank_gateway.staff import service as staff
from shared import sealed
from shared.db import make_engine, make_sessionmaker

DEMO_BANKS = {"srcb": "上海农商银行", "bosc": "上海银行"}
# Bureau staff for the console: alice drafts, carol approves (four eyes).
DEMO_STAFF = {
    "alice": ("张丽（经办）", False),
    "bob": ("王波（经办）", False),
    "carol": ("陈卡（审批）", True),
}


def demo_staff_password(username: str) -> str:
    return f"dev-password-{username}"


def demo_client_secret(code: str) -> str:
    """Known development credentials for the demo banks; production seeds none."""
    return f"dev-secret-{code}"


async def seed(settings: Settings) -> str:
    sealed.install(settings.keys_dir, "bank_gateway", create=settings.environment != "production")
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for code, name in DEMO_BANKS.items():
                await ensure_bank(
                    session=session,
                    code=code,
                    name=name,
                    client_secret=(
                        None if settings.environment == "production" else demo_client_secret(code)
                    ),
                )
            if settings.environment != "production":
                for username, (name, approver) in DEMO_STAFF.items():
                    await staff.ensure(
                        session=session,
                        username=username,
                        display_name=name,
                        password=demo_staff_password(username),
                        approver=approver,
                    )
    finally:
        await engine.dispose()
    return (
        "bank_gateway: demo banks "
        + "、".join(DEMO_BANKS.values())
        + (
            "; console staff alice, bob, carol (approver)"
            if settings.environment != "production"
            else ""
        )
    )
