"""Bureau staff accounts: sign-in for the console. Never commits.

A staff member signs in with a username and password (argon2id hash); the session is a
bureau token issued by the gateway — the same token the services' APIs take — carrying
the ``approve`` permission for approvers. A failed sign-in says the same thing whether the
name is unknown or the password wrong, and takes as long.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.models import StaffAccount
from services.bank_gateway.staff import repository as repo
from services.bank_gateway.staff.exceptions import StaffSignInFailed
from shared.attempts import account_key
from shared.clock import utcnow
from shared.passwords import hash_secret, secret_matches


async def sign_in(*, session: AsyncSession, username: str, password: str) -> StaffAccount:
    # The throttle's key rule (shared/attempts.py), so the counter and the login agree.
    account = await repo.get_account(session=session, username=account_key(username))
    stored = account.password_hash if account is not None and account.active else None
    if not await secret_matches(password, stored):
        raise StaffSignInFailed("用户名或密码不正确，或账号已停用")
    assert account is not None
    account.last_login_at = utcnow()
    return account


async def ensure(
    *, session: AsyncSession, username: str, display_name: str, password: str, approver: bool
) -> StaffAccount:
    """A staff account as given (the demo seed); an existing one is left as it is."""
    account = await repo.get_account(session=session, username=username)
    if account is None:
        account = StaffAccount(
            username=username,
            display_name=display_name,
            password_hash=await hash_secret(password),
            approver=approver,
        )
        repo.add(session, account)
        await session.flush()
    return account
