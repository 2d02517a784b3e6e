"""Enterprise accounts for the SME portal: registration and sign-in. Never commits.

An enterprise signs in with its 统一社会信用代码 and a password; the password is kept only
as an argon2id hash. A failed sign-in says the same thing whether the code is unknown or
the password wrong, and takes as long.
"""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.accounts import repository as repo
from services.loan_intake.accounts.exceptions import AccountExists, SignInFailed
from services.loan_intake.accounts.schemas import Registration
from services.loan_intake.models import AuditEntry, EnterpriseAccount
from shared import audit
from shared.attempts import account_key
from shared.clock import utcnow
from shared.passwords import hash_secret, secret_matches


def _audit(
    session: AsyncSession, account: EnterpriseAccount, action: str, *, created: bool
) -> None:
    """Append to the audit log, with the account's columns before and after (unflushed;
    the password hash is redacted by shared/audit.py)."""
    audit.append(
        session,
        AuditEntry,
        actor=f"sme:{account.uscc}",
        action=action,
        entity_type=EnterpriseAccount.__tablename__,
        entity_id=account.uscc,
        entity=account,
        created=created,
    )


async def register(*, session: AsyncSession, registration: Registration) -> EnterpriseAccount:
    if await repo.get_account(session=session, uscc=registration.uscc) is not None:
        raise AccountExists("该统一社会信用代码已注册，请直接登录")
    account = EnterpriseAccount(
        uscc=registration.uscc,
        enterprise_name=registration.enterprise_name,
        contact_name=registration.contact_name,
        contact_phone=registration.contact_phone,
        password_hash=await hash_secret(registration.password),
        last_login_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            repo.add(session, account)
            await session.flush()
    except IntegrityError:
        raise AccountExists("该统一社会信用代码已注册，请直接登录") from None
    _audit(session, account, "account.registered", created=True)
    return account


async def sign_in(*, session: AsyncSession, uscc: str, password: str) -> EnterpriseAccount:
    # The throttle's key rule (shared/attempts.py), so the counter and the login agree.
    account = await repo.get_account(session=session, uscc=account_key(uscc).upper())
    if not await secret_matches(password, account.password_hash if account else None):
        raise SignInFailed("统一社会信用代码或密码不正确")
    assert account is not None
    account.last_login_at = utcnow()
    _audit(session, account, "account.signed_in", created=False)
    return account
