"""Bureau staff accounts: sign-in for the console. Never commits.

A staff member signs in with a username and password (argon2id hash); the session is a
bureau token issued by the gateway — the same token the services' APIs take — carrying
the ``approve`` permission for approvers. A failed sign-in says the same thing whether the
name is unknown or the password wrong, and takes as long.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.models import AuditEntry, StaffAccount
from services.bank_gateway.staff import repository as repo
from services.bank_gateway.staff.exceptions import StaffNotFound, StaffSignInFailed
from services.bank_gateway.staff.schemas import StaffPublic, StaffUpdate
from shared import audit
from shared.attempts import account_key
from shared.auth import APPROVE_PERMISSION, Principal, Role, person_of
from shared.clock import utcnow
from shared.contracts.sessions import SessionState
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
    *,
    session: AsyncSession,
    username: str,
    display_name: str,
    password: str,
    approver: bool,
    role: Role = Role.BUREAU,
) -> StaffAccount:
    """A staff account as given (the demo seed); an existing one is left as it is."""
    account = await repo.get_account(session=session, username=username)
    if account is None:
        account = StaffAccount(
            username=username,
            display_name=display_name,
            password_hash=await hash_secret(password),
            approver=approver,
            role=role.value,
        )
        repo.add(session, account)
        await session.flush()
    return account


def _public(account: StaffAccount) -> StaffPublic:
    return StaffPublic.model_validate(account, from_attributes=True)


async def list_staff(*, session: AsyncSession) -> list[StaffPublic]:
    return [_public(a) for a in await repo.list_accounts(session=session)]


async def update_staff(
    *, session: AsyncSession, principal: Principal, username: str, payload: StaffUpdate
) -> StaffPublic:
    """An administrator deactivates a clerk or changes the approver right (audited)."""
    account = await repo.get_account(session=session, username=account_key(username))
    if account is None:
        raise StaffNotFound(f"没有用户名为 {username} 的工作人员")
    changes = payload.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(account, name, value)
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="staff.updated",
        entity_type="staff_account",
        entity_id=account.username,
        detail={},
        entity=account,
    )
    await session.flush()
    return _public(account)


async def session_state(
    *, session: AsyncSession, username: str, role: str = Role.BUREAU.value
) -> SessionState | None:
    """What a staff token of ``username`` may do now; None when no account has that name
    (a token minted with the operator's key, ``python -m services.bank_gateway token``). A
    token of another role than the account's is dead."""
    account = await repo.get_account(session=session, username=account_key(username))
    if account is None:
        return None
    return SessionState(
        active=account.active and account.role == role,
        permissions=[APPROVE_PERMISSION] if account.approver else [],
        name=account.display_name,
    )


async def names_of(*, session: AsyncSession, actors: list[str | None]) -> dict[str, str]:
    """How people appear on pages: an actor of history (``fund:dave``) → ``丁伟（担保基金审核）``;
    an actor without a console account keeps its id."""
    people = {a: person_of(a) for a in actors if a}
    names = await repo.display_names(session=session, usernames=sorted(set(people.values())))
    return {actor: names.get(person, actor) for actor, person in people.items()}
