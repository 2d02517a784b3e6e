"""Enterprise accounts for the SME portal: registration, sign-in, verification. Never
commits.

A person signs in with the firm's 统一社会信用代码 and their password (kept only as an
argon2id hash). Several people may hold accounts of one firm, and registering never says
whether the firm is known here ("已注册" told strangers which firms exist); an account is
unverified — it sees only what it submitted — until the city's identity platform (or a
clerk) proves its hold on the firm. A failed sign-in says the same thing whether the code
is unknown or the password wrong.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.accounts import repository as repo
from services.loan_intake.accounts.exceptions import (
    AccountExists,
    SignInFailed,
    VerificationMismatch,
)
from services.loan_intake.accounts.schemas import Registration
from services.loan_intake.models import AuditEntry, EnterpriseAccount, RevokedSession
from shared import audit
from shared.attempts import account_key
from shared.auth import VERIFIED_PERMISSION
from shared.clock import utcnow
from shared.contracts.sessions import SessionQuery, SessionState
from shared.passwords import hash_secret, secret_matches
from shared.sessions import is_revoked

_REVOKED = RevokedSession.__table__  # type: ignore[attr-defined]


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


def audit_account(session: AsyncSession, account: EnterpriseAccount, action: str) -> None:
    """An account's change, in the audit log (for the account's other rules: resets.py)."""
    _audit(session, account, action, created=False)


# Accounts one firm may have: sign-in tries each (an argon2 check apiece), so bounded.
ACCOUNTS_PER_FIRM = 5


async def register(*, session: AsyncSession, registration: Registration) -> EnterpriseAccount:
    if await repo.count_of(session=session, uscc=registration.uscc) >= ACCOUNTS_PER_FIRM:
        raise AccountExists("该企业在本平台的账号已达上限：请用已有账号登录，或联系区财政局")
    account = EnterpriseAccount(
        uscc=registration.uscc,
        enterprise_name=registration.enterprise_name,
        contact_name=registration.contact_name,
        contact_phone=registration.contact_phone,
        password_hash=await hash_secret(registration.password),
        last_login_at=utcnow(),
    )
    repo.add(session, account)
    await session.flush()
    _audit(session, account, "account.registered", created=True)
    return account


async def sign_in(*, session: AsyncSession, uscc: str, password: str) -> EnterpriseAccount:
    # The throttle's key rule (shared/attempts.py), so the counter and the login agree.
    candidates = await repo.accounts_of(
        session=session, uscc=account_key(uscc).upper(), limit=ACCOUNTS_PER_FIRM
    )
    account = None
    for candidate in candidates:
        if await secret_matches(password, candidate.password_hash):
            account = candidate
            break
    if not candidates:
        await secret_matches(password, None)  # as long as a wrong password takes
    if account is None:
        raise SignInFailed("统一社会信用代码或密码不正确")
    account.last_login_at = utcnow()
    _audit(session, account, "account.signed_in", created=False)
    return account


def is_verified(account: EnterpriseAccount) -> bool:
    return account.verified_at is not None


async def session_state(session: AsyncSession, query: SessionQuery) -> SessionState:
    """An SME's session stands until it signs out; a portal account's permissions are read
    again: verified (all of its firm's applications) or not (only its own)."""
    revoked = await is_revoked(session, _REVOKED, query.session)
    if revoked or query.account is None or not query.account.isdigit():
        return SessionState(active=not revoked)
    account = await repo.get_by_id(session=session, account_id=int(query.account))
    if account is None:
        return SessionState(active=False)
    return SessionState(
        active=True, permissions=[VERIFIED_PERMISSION] if is_verified(account) else []
    )


async def by_id(*, session: AsyncSession, account_id: int) -> EnterpriseAccount | None:
    return await repo.get_by_id(session=session, account_id=account_id)


async def verify(
    *, session: AsyncSession, account_id: int, uscc: str, how: str
) -> EnterpriseAccount:
    """The account's hold on its firm is proven (``how``: by whom, on what evidence): it sees
    all of the firm's applications from its next request on."""
    account = await repo.get_by_id(session=session, account_id=account_id)
    if account is None:
        raise SignInFailed("账号不存在")
    if account.uscc != uscc:
        raise VerificationMismatch(
            f"核验结果的统一社会信用代码（{uscc}）与本账号（{account.uscc}）不一致，未核验"
        )
    if account.verified_at is None:
        account.verified_at = utcnow()
        account.verified_by = how[:300]
        _audit(session, account, "account.verified", created=False)
    return account


async def messages_read_at(*, session: AsyncSession, account_id: int | None) -> datetime | None:
    account = await repo.get_by_id(session=session, account_id=account_id) if account_id else None
    return account.messages_read_at if account else None


async def mark_messages_read(
    *, session: AsyncSession, account_id: int | None, at: datetime
) -> None:
    """Everything up to ``at`` has been read by this account (the caller commits)."""
    account = await repo.get_by_id(session=session, account_id=account_id) if account_id else None
    if account is not None:
        account.messages_read_at = at
