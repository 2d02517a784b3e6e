"""Demo partner bank for local runs."""

from services.bank_gateway.banks.service import ensure_bank
from services.bank_gateway.config import Settings
from services.bank_gateway.staff import service as staff
from shared import sealed
from shared.auth import Role
from shared.db import make_engine, make_sessionmaker

DEMO_BANKS = {"srcb": "上海农商银行", "bosc": "上海银行"}
# Console staff: at the bureau alice drafts, carol approves (four eyes); at the guarantee
# fund dave reviews claims and erin confirms the large ones.
DEMO_STAFF = {
    "alice": ("张丽（经办）", False, Role.BUREAU),
    "bob": ("王波（经办）", False, Role.BUREAU),
    "carol": ("陈卡（审批）", True, Role.BUREAU),
    "dave": ("丁伟（担保基金审核）", False, Role.FUND),
    "erin": ("鄂琳（担保基金复核）", True, Role.FUND),
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
                for username, (name, approver, role) in DEMO_STAFF.items():
                    await staff.ensure(
                        session=session,
                        username=username,
                        display_name=name,
                        password=demo_staff_password(username),
                        approver=approver,
                        role=role,
                    )
    finally:
        await engine.dispose()
    return (
        "bank_gateway: demo banks "
        + "、".join(DEMO_BANKS.values())
        + (
            "; console staff alice, bob, carol (approver); guarantee fund dave, erin (approver)"
            if settings.environment != "production"
            else ""
        )
    )
